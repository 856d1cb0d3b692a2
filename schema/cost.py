"""The cost limit (API.md "Cost limit"): how many objects a query may return, estimated
before execution, and the refusal of a query estimated above `Settings.max_nodes`.

The estimate is the sum, over every field that returns objects (a field with a selection
set) in the operation that runs, of the product of the multipliers on its path, its own
included. Fragments, named or inline, are spread in, and every alias is a field of its own
(an aliased copy of a connection counts again). A field's multiplier is how many objects it
may return for each object above it:

- `edges` of a connection: the connection's page size, the larger of `first` and `last`,
  or 20 (the default page) when neither is given; the connection object itself, its
  `pageInfo` and each edge's `node` count 1. So `projects(first: 100) { edges { node { id } }
  pageInfo { hasNextPage } }` is 1 + 100 + 100 + 1 = 202.
- `nodes(ids:)`: the number of ids.
- a list that is not a connection — `Project.members`, `Generation.outputs` — 20, the
  default page (`LIST_SIZES`). Neither is paged: a project's members have no bound, and a
  generation's outputs are bounded at 100 per completion (production makes 1 or 4); the
  bound would refuse a page of 100 generations with their outputs (10,201) although a page
  of 100 is allowed, and 20 keeps it at 2,201.
- any other object field: 1.

Argument values are literals or the request's variables; a variable the request leaves out
takes its default in the operation, and a null or missing one leaves the argument not
given. A value that is not an Int (the variables' coercion refuses it afterwards) counts as
not given; a negative size counts 0 (pagination refuses it). Fields left out by
`@skip`/`@include` do not count. Fields under a type condition count as if every object
matched it, and introspection (`__schema`, `__type`) counts 0. Counts saturate at
`SATURATED` (10**9).

The estimate is made once per request after validation (a document that fails validation or
the other limits is refused for that), in one pass over the operation, each fragment worked
out once and reused at every spread: variables change the result, so what a fragment
amounts to is kept for the request only. A fragment on a connection type amounts to objects
per connection plus objects per edge (`Cost`), so it is multiplied by the page size of each
connection it is spread in. The refusal is a pre-execution error: no resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from resolvers.pagination import DEFAULT_PAGE_SIZE

from .context import Context
from .limits import QUERY_TOO_COMPLEX, SATURATED

# Lists that are not connections: objects counted per parent object.
LIST_SIZES: Mapping[tuple[str, str], int] = {
    ("Project", "members"): DEFAULT_PAGE_SIZE,
    ("Generation", "outputs"): DEFAULT_PAGE_SIZE,
}
OTHER_LISTS = DEFAULT_PAGE_SIZE  # a list field added later and not named above


def _capped(value: int) -> int:
    return min(value, SATURATED)


@dataclass(frozen=True, slots=True)
class Cost:
    """What a selection set returns for each object of its type: `fixed` objects, and on a
    connection type `per_edge` more for each edge of its page."""

    fixed: int = 0
    per_edge: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(_capped(self.fixed + other.fixed), _capped(self.per_edge + other.per_edge))


NOTHING = Cost()


def _is_connection(kind: GraphQLNamedType | None) -> bool:
    return (
        isinstance(kind, GraphQLObjectType)
        and kind.name.endswith("Connection")
        and "edges" in kind.fields
    )


class Estimate:
    """The estimate for one request: its document's fragments and its variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        defaults = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        self.variables = {**defaults, **(variables or {})}  # a null given stays null
        self.known: dict[str, Cost] = {}
        self.measuring: set[str] = set()  # a cycle (reported by validation) is cut
        self.read_variables = False  # whether a variable was consulted

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return 0 if root is None else self.selection_set(operation.selection_set, root).fixed

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Cost:
        total = NOTHING
        for selection in node.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            else:
                assert isinstance(selection, InlineFragmentNode)
                condition = selection.type_condition
                kind = parent if condition is None else self.schema.get_type(condition.name.value)
                total += self.selection_set(selection.selection_set, kind)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Cost:
        name = node.name.value
        if node.selection_set is None or name.startswith("__"):
            return NOTHING  # a leaf, or introspection
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return NOTHING  # reported by validation
        definition = parent.fields.get(name)
        if definition is None:
            return NOTHING
        returned = definition.type
        if isinstance(returned, GraphQLNonNull):
            returned = returned.of_type
        kind = get_named_type(returned)
        below = self.selection_set(node.selection_set, kind)
        each = _capped(1 + below.fixed)  # the object and what it holds
        if name == "edges" and _is_connection(parent):
            return Cost(per_edge=each)
        if _is_connection(kind):
            return Cost(_capped(each + below.per_edge * self._page_size(node)))
        if not isinstance(returned, GraphQLList):
            return Cost(each)
        if name == "nodes" and parent is self.schema.query_type:
            return Cost(_capped(each * self._ids(node)))
        return Cost(_capped(each * LIST_SIZES.get((parent.name, name), OTHER_LISTS)))

    def fragment(self, name: str) -> Cost:
        known = self.known.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.measuring:
            return NOTHING
        self.measuring.add(name)
        kind = self.schema.get_type(definition.type_condition.name.value)
        found = self.known[name] = self.selection_set(definition.selection_set, kind)
        self.measuring.discard(name)
        return found

    def _value(self, node: ValueNode | None) -> Any:
        if node is None or isinstance(node, NullValueNode):
            return None
        if isinstance(node, VariableNode | ListValueNode | ObjectValueNode):
            self.read_variables = True  # (a list or object may hold variables)
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        return value_from_ast_untyped(node, self.variables)

    def _argument(self, node: FieldNode, name: str) -> Any:
        found = next((a.value for a in node.arguments or () if a.name.value == name), None)
        return self._value(found)

    def _page_size(self, node: FieldNode) -> int:
        sizes = [_int(self._argument(node, name)) for name in ("first", "last")]
        given = [max(size, 0) for size in sizes if size is not None]
        return max(given) if given else DEFAULT_PAGE_SIZE

    def _ids(self, node: FieldNode) -> int:
        ids = next((a.value for a in node.arguments or () if a.name.value == "ids"), None)
        if isinstance(ids, ListValueNode):
            return len(ids.values)
        value = self._value(ids)
        if value is None:
            return 0
        return len(value) if isinstance(value, list) else 1  # one id becomes a list of one

    def _included(self, node: SelectionNode) -> bool:
        """False when `@skip(if: true)` or `@include(if: false)` leaves `node` out."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in {"skip", "include"}:
                continue
            arguments = directive.arguments or ()
            condition = next((a.value for a in arguments if a.name.value == "if"), None)
            if isinstance(condition, BooleanValueNode):
                value: Any = condition.value
            else:
                value = self._value(condition)
            if isinstance(value, bool) and value == (name == "skip"):
                return False
        return True


def _int(value: Any) -> int | None:
    """`value` as GraphQL's Int takes it, else None (variable coercion reports it)."""
    if value is None:
        return None
    try:
        return int(GraphQLInt.parse_value(value))
    except GraphQLError:
        return None


def estimate(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """The estimated number of objects the operation returns (see the module's docstring)."""
    return _estimated(schema, document, variables, operation_name)[0]


def fixed_estimate(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None = None
) -> int | None:
    """The estimate when no variable can change it (sizes and ids written in the document:
    compiled plans work it out once), else None."""
    nodes, read_variables = _estimated(schema, document, None, operation_name)
    return None if read_variables else nodes


def _estimated(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
) -> tuple[int, bool]:
    """The estimate, and whether a variable was consulted to make it."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, False
    measure = Estimate(schema, document, operation, variables)
    return measure.operation(operation), measure.read_variables


def refusal(nodes: int, limit: int) -> GraphQLError:
    shown = f"more than {SATURATED:,}" if nodes >= SATURATED else f"about {nodes:,}"
    return GraphQLError(
        f"the query may return {shown} nodes; the limit is {limit:,}",
        extensions={"code": QUERY_TOO_COMPLEX},
    )


class CostLimit(SchemaExtension):
    """Estimates a validated document's result and refuses it above `max_nodes`; the
    estimate is left on the request's Context (`extensions.cost` in development). Listed
    after the validation extensions, so that only a document that passed them is estimated
    and the refusal joins the validation errors before Strawberry decides to execute."""

    def __init__(self, max_nodes: int) -> None:
        super().__init__()
        self.max_nodes = max_nodes

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            nodes = estimate(
                context.schema._schema, document, context.variables, context.operation_name
            )
            if isinstance(context.context, Context):
                context.context.cost = nodes
            if nodes > self.max_nodes:
                # A new list: the validation cache keeps the one it returned.
                context.pre_execution_errors = [refusal(nodes, self.max_nodes)]
        yield
