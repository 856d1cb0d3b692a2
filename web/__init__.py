"""The front-end assets concern: GraphiQL served by the server itself (development only).

Its third-party files are vendored in web/vendor/ (pinned npm packages, written by
`python -m web.update`, recorded in web/vendor/manifest.json) and served from the server's
own paths, so the page works with no network. Knows nothing of GraphQL execution.
"""
