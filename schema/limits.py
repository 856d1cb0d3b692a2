"""Query cost limits and the error codes of pre-execution failures.

The limits — depth, aliases, fragment spreads, and the comparisons graphql-core's
OverlappingFieldsCanBeMerged rule makes (it takes same-named fields pair by pair, with
everything below them: quadratic in the copies of a field) — are measured in one
pass over the whole document, each fragment once: what a fragment contributes is worked out
the first time it is spread and reused at every later spread. A document whose fragments
spread each other (F18 spreads F17 twice, F17 spreads F16 twice, …) is measured in time
linear in its length although it expands to millions of fields; measuring it by expanding
every spread, as a naive rule does, takes time doubling with each level. Counts saturate
at `SATURATED`, far above any limit.

The limits are checked before graphql-core's rules (`LimitedValidation`, cached per
document like the rest of validation), so a document over them never meets those rules,
whose cost also grows with the document; their errors carry `QUERY_TOO_COMPLEX`.
Validation errors that carry no code get theirs here, so the HTTP layer can tell them from
variable coercion errors; parse errors are told apart by type. A document with several
operations and no `operationName` is refused by `OneOperation` (the GraphQL spec requires
an error; executing the first is a guess).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension, ValidationCache

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
SATURATED = 10**9
# graphql-core's only signal that `max_tokens` stopped the parser is this message.
_TOKEN_LIMIT_PREFIX = "Document contains more than"


@dataclass(frozen=True, slots=True)
class Size:
    """What a selection set amounts to once its fragments are spread in."""

    depth: int  # nesting of fields with selections below it (introspection fields count 0)
    aliases: int  # aliased fields
    spreads: int  # fragment spreads
    fields: int = 0  # fields
    # Fields graphql-core compares to prove that same-named fields merge: it takes them
    # pair by pair, each pair with what lies below both (OverlappingFieldsCanBeMerged).
    comparisons: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(
            max(self.depth, other.depth),
            _capped(self.aliases + other.aliases),
            _capped(self.spreads + other.spreads),
            _capped(self.fields + other.fields),
            _capped(self.comparisons + other.comparisons),
        )


NOTHING = Size(0, 0, 0)


def _capped(value: int) -> int:
    return min(value, SATURATED)


@dataclass(slots=True)
class Group:
    """The fields of one response name in one selection set: how many, and how many fields
    lie below them in all."""

    count: int = 0
    below: int = 0

    def comparisons(self) -> int:
        return self.count * (self.count - 1) // 2 + max(self.count - 1, 0) * self.below


Names = dict[str, Group]  # a selection set's response names, fragments merged in


class Measure:
    """Sizes of the selection sets of one document, each fragment measured once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.known: dict[str, tuple[Size, Names]] = {}
        self.measuring: set[str] = set()  # a cycle (reported by NoFragmentCyclesRule) is cut

    def selection_set(self, node: SelectionSetNode | None) -> Size:
        """The size of a field's or an operation's selection set."""
        size, names = self._merged(node)
        comparisons = _capped(sum(group.comparisons() for group in names.values()))
        return size + Size(0, 0, 0, 0, comparisons)

    def _merged(self, node: SelectionSetNode | None) -> tuple[Size, Names]:
        """The size below this selection set and the response names it holds once inline
        fragments and fragment spreads are merged into it."""
        total, names = NOTHING, Names()
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                size = self.field(selection)
                total += size
                group = names.setdefault((selection.alias or selection.name).value, Group())
                group.count, group.below = group.count + 1, _capped(group.below + size.fields - 1)
                continue
            if isinstance(selection, FragmentSpreadNode):
                size, merged = self.fragment(selection.name.value)
                total += Size(0, 0, 1)
            else:
                assert isinstance(selection, InlineFragmentNode)
                size, merged = self._merged(selection.selection_set)
            total += size
            for name, more in merged.items():
                group = names.setdefault(name, Group())
                group.count = _capped(group.count + more.count)
                group.below = _capped(group.below + more.below)
        return total, names

    def field(self, node: FieldNode) -> Size:
        alias = 1 if node.alias else 0
        if node.selection_set is None or node.name.value.startswith("__"):
            return Size(0, alias, 0, 1)  # introspection is exempt: GraphiQL's own query is deep
        below = self.selection_set(node.selection_set)
        return Size(
            below.depth + 1,
            _capped(below.aliases + alias),
            below.spreads,
            _capped(below.fields + 1),
            below.comparisons,
        )

    def fragment(self, name: str) -> tuple[Size, Names]:
        known = self.known.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return NOTHING, Names()  # unknown fragments are reported by KnownFragmentNamesRule
        self.measuring.add(name)
        found = self.known[name] = self._merged(definition.selection_set)
        self.measuring.discard(name)
        return found


def _shown(count: int) -> str:
    return f"more than {SATURATED:,}" if count >= SATURATED else f"{count:,}"


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_spreads: int
    max_comparisons: int


@functools.lru_cache(maxsize=512)
def refusals(document: DocumentNode, limits: Limits) -> tuple[GraphQLError, ...]:
    """The limits `document` exceeds, as QUERY_TOO_COMPLEX errors (cached per document)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measure, total, found = Measure(fragments), NOTHING, []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        size = measure.selection_set(operation.selection_set)
        if size.depth > limits.max_depth:
            name = operation.name.value if operation.name else "anonymous"
            found.append(f"'{name}' exceeds maximum operation depth of {limits.max_depth}")
        total += size
    if total.aliases > limits.max_aliases:
        found.append(f"{_shown(total.aliases)} aliases found. Allowed: {limits.max_aliases}")
    if total.spreads > limits.max_spreads:
        found.append(
            f"{_shown(total.spreads)} fragment spreads once fragments are spread in. "
            f"Allowed: {limits.max_spreads}"
        )
    if total.comparisons > limits.max_comparisons:
        found.append(
            f"{_shown(total.comparisons)} field comparisons to merge fields that share a "
            f"name. Allowed: {limits.max_comparisons}"
        )
    return tuple(GraphQLError(m, extensions={"code": QUERY_TOO_COMPLEX}) for m in found)


class LimitedValidation(ValidationCache):
    """Validation, cached per document, the limits first: a document over them is refused
    without meeting graphql-core's rules, whose cost also grows with the document."""

    def __init__(self, limits: Limits, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        refused = refusals(context.graphql_document, self.limits)
        if refused:
            context.pre_execution_errors = list(refused)
            yield
        else:
            yield from super().on_validate()


def _tag(errors: list[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}


class ErrorPhases(SchemaExtension):
    """Codes validation failures; runs outermost (listed first), after ValidationCache."""

    def on_validate(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")


class OneOperation(SchemaExtension):
    """Refuses a document with several operations when the request does not say which to
    run (Strawberry would run the first). Listed after ValidationCache, so that its error
    joins the validation errors before Strawberry decides whether to execute."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # Strawberry answers the first operation's name when the client gave none, so the
        # request's own choice is read from our context.
        named = getattr(context.context, "requested_operation", None) is not None
        if not named and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(
                    "the document has several operations: say which to run with operationName",
                    extensions={"code": "BAD_USER_INPUT"},
                )
                # A new list: the validation cache keeps the one it returned.
                context.pre_execution_errors = [*(context.pre_execution_errors or []), error]
        yield


def code_of_syntax_error(error: GraphQLError) -> str:
    """Parse errors (raised out of the parser cache) are coded by type, here."""
    if _TOKEN_LIMIT_PREFIX in error.message:
        return QUERY_TOO_COMPLEX
    return "GRAPHQL_PARSE_FAILED"
