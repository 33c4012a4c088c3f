"""The Slack side of releasebot: settings today; the Bolt app, handlers and server next."""
