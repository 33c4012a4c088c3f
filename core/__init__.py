"""Domain models, rules and services of releasebot. Imports neither Slack nor Motor."""
