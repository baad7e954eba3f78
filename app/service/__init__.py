"""The GitHub App: webhook intake, job queue, GitHub client and publishing of results."""
