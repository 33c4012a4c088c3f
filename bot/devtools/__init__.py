"""Local stand-ins for Slack: a fake Web API server and request signing."""
