"""Persisted documents (API.md "Persisted documents"): a request may name its document
instead of sending it.

- `{"documentId": "sha256:<hex>", "variables": …}` (GraphQL-over-HTTP persisted documents;
  `?documentId=` on GET) names a document of the trusted manifest, or one registered
  before by automatic persisted queries;
- Apollo's automatic persisted queries: `"extensions": {"persistedQuery": {"version": 1,
  "sha256Hash": "<hex>"}}` alone names the document; with `query` it registers it (its hash
  checked) for later requests.

The manifest (`VESPER_TRUSTED_DOCUMENTS`) is the JSON object `{"<hash>": "<document>"}`
that Relay's compiler (with sha256 ids) and graphql-codegen's persisted documents emit;
keys with or without the `sha256:` prefix. It is checked when the server starts: every key
must be the SHA-256 of its document, and every document must parse. With
`VESPER_ONLY_TRUSTED=1` nothing else runs: not an ad-hoc `query`, not a registration.

Documents registered by automatic persisted queries are kept per process, the most
recently used first, up to `REGISTERED_DOCUMENTS` of them and `REGISTERED_BYTES` in all: a
client told PERSISTED_QUERY_NOT_FOUND sends the document again, as APQ clients do.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphql import GraphQLError, parse

from settings import ConfigError

from .http import RequestRefused

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
MISMATCH = "PERSISTED_QUERY_MISMATCH"
NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
REGISTERED_DOCUMENTS = 10_000
REGISTERED_BYTES = 16 * 1024 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")
_PREFIX = "sha256:"


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def load_manifest(path: str) -> dict[str, str]:
    """The trusted documents by hash (hex, no prefix); ConfigError when the file is not
    such a manifest."""
    where = f"VESPER_TRUSTED_DOCUMENTS ({path})"
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where} cannot be read as JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a JSON object {{"<sha256>": "<document>"}}')
    manifest: dict[str, str] = {}
    for key, document in raw.items():
        digest = key.removeprefix(_PREFIX).lower()
        if not isinstance(document, str) or not _HEX.fullmatch(digest):
            raise ConfigError(f"{where}: {key!r} is not a SHA-256 hash with a document")
        if sha256(document) != digest:
            raise ConfigError(f"{where}: {key!r} is not the SHA-256 of its document")
        try:
            parse(document)
        except GraphQLError as exc:
            raise ConfigError(
                f"{where}: the document {key!r} does not parse: {exc.message}"
            ) from None
        manifest[digest] = document
    return manifest


class Documents:
    """Where a request's document comes from: the request, the manifest, or a registration."""

    def __init__(self, trusted: Mapping[str, str], *, only_trusted: bool) -> None:
        self.trusted = dict(trusted)
        self.trusted_texts = frozenset(self.trusted.values())
        self.only_trusted = only_trusted
        self.registered: OrderedDict[str, str] = OrderedDict()
        self.registered_bytes = 0

    def document(self, params: Mapping[str, Any]) -> Any:
        """The document the request runs (what `query` holds when it names none; the
        caller checks its form), or a RequestRefused with the API.md code."""
        query = params.get("query")
        document_id = params.get("documentId")
        extensions = params.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if document_id is not None:
            if query is not None:
                raise RequestRefused(400, "send either documentId or query, not both")
            if not isinstance(document_id, str) or not document_id.startswith(_PREFIX):
                raise RequestRefused(400, 'documentId must be "sha256:<64 hex digits>"')
            return self._named(_digest(document_id.removeprefix(_PREFIX), "documentId"))
        if persisted is not None:
            digest = _apq_hash(persisted)
            if query is None:
                return self._named(digest)
            if not isinstance(query, str) or sha256(query) != digest:
                raise RequestRefused(
                    400, "the query's SHA-256 is not the persistedQuery's sha256Hash", MISMATCH
                )
            if digest not in self.trusted:
                self._register(digest, query)
            return query
        if self.only_trusted and isinstance(query, str) and query not in self.trusted_texts:
            raise _not_trusted()
        return query

    def _named(self, digest: str) -> str:
        found = self.trusted.get(digest)
        if found is None and not self.only_trusted:
            found = self.registered.get(digest)
            if found is not None:
                self.registered.move_to_end(digest)
        if found is None:
            hint = "" if self.only_trusted else "; send it with its query to register it"
            raise RequestRefused(400, f"no persisted document has this hash{hint}", NOT_FOUND)
        return found

    def _register(self, digest: str, query: str) -> None:
        if self.only_trusted:
            raise _not_trusted()
        if digest in self.registered:
            self.registered.move_to_end(digest)
            return
        self.registered[digest] = query
        self.registered_bytes += len(query)
        while (
            len(self.registered) > REGISTERED_DOCUMENTS or self.registered_bytes > REGISTERED_BYTES
        ):
            _, dropped = self.registered.popitem(last=False)
            self.registered_bytes -= len(dropped)


def _digest(value: str, what: str) -> str:
    digest = value.lower()
    if not _HEX.fullmatch(digest):
        raise RequestRefused(400, f"{what} must hold a SHA-256 hash (64 hex digits)")
    return digest


def _apq_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise RequestRefused(400, "extensions.persistedQuery must be {version: 1, sha256Hash}")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str):
        raise RequestRefused(400, "extensions.persistedQuery.sha256Hash must be a string")
    return _digest(digest, "extensions.persistedQuery.sha256Hash")


def _not_trusted() -> RequestRefused:
    return RequestRefused(400, "this server runs trusted documents only", NOT_TRUSTED)
