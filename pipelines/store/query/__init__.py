"""Questions asked of the published library, read from its releases in git: `indicators diff` (diff),
`history` (history) and `search` (search); git_read reads a release's tables from git objects."""
