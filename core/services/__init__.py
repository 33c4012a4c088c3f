"""Services: the operations the Slack surface needs, each checking the actor's permissions."""
