"""Compiled execution plans: a query document worked out once into what each level of the
response needs, then run per request without graphql-core's per-field machinery.

Why: the front end sends the same few documents all day, and graphql-core pays for every
field of every node of every request again — a resolver call, an awaitable or not, the
completion of its value, the extensions around it. A plan pays at compile time for what
does not change between requests (which fields, merged by response name with fragments
spread; where each value comes from; how each leaf is serialized) and at run time only for
the rows.

Compiling (`compile_plan`, cached by `Plans` per document text and operation name): only a
document that validates exactly as on the reference path (the cost limits, graphql-core's
and Strawberry's rules) and holds a query is compiled. Each field's value comes from what
its declaration says (the same declarations the reference path resolves through):

- a column: the attribute the object type copies from its row (`Project.name`);
- a relation (schema/relations.py): the loader, the key in the parent's row, what the
  loaded value becomes (`Project.owner`, the card figures, `Generation.outputs`);
- a viewer's field (`Generation.parameters`): a function of the row and the request;
- a connection (schema/connection.py `paged`): its page function, the rows becoming the
  Connection object the reference path builds (so `edges`, `cursor`, `node`, `pageInfo`
  are columns of it);
- a root field (schema/query.py `ROOT_FIELDS`): the function its resolver calls;
- `__typename`.

Anything else — a directive anywhere (`@skip`, `@include`), introspection, a field with a
resolver that is none of the above, a mutation or subscription — leaves the document to the
graphql-core path, which stays the reference.

Running (`run`): the variables are coerced and the arguments read exactly as graphql-core
does (`get_variable_values`, `get_argument_values`); the cost limit is estimated as on the
reference path; every connection's arguments are checked before any statement. Then level
by level: every relation of the level's objects is loaded in one batch per loader (the
statements the reference path's look-ahead runs), every connection page of the level is
read (siblings batched by their page loader), and the level's values are written into
plain dicts in response order; objects found open the next level. What the plan cannot
answer as the reference path would — invalid variables or arguments, a limit exceeded, a
row deleted while the request ran (a non-null field with nothing to show), any exception —
makes `run` answer None, and the request is executed on the reference path instead, which
gives the errors. A query the plan answers has no errors, so the response is the `data`
written here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    is_leaf_type,
    specified_rules,
    type_from_ast,
)
from graphql.language import Visitor, visit
from strawberry.schema.schema import validate_document
from strawberry.types.base import StrawberryObjectDefinition

from loaders import KeyedLoader
from resolvers.pagination import keyset

from .connection import Paged, connection, page_args, paged_of
from .context import Context
from .cost import estimate, fixed_estimate
from .limits import Limits, refusals
from .query import ROOT_FIELDS, Root
from .relations import Relation, ViewerField, relations_of, viewer_field_of


class Unsupported(Exception):
    """What a plan does not express: the document stays on the reference path."""


class Abandon(Exception):
    """The plan cannot answer this request as the reference path would."""


# --- what a plan is made of -------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Leaf:
    """A scalar or enum: graphql-core's serializer of its type."""

    serialize: Callable[[Any], Any]


@dataclass(frozen=True, slots=True, eq=False)
class Listed:
    item: Completion
    item_nullable: bool


@dataclass(slots=True, eq=False)
class Fields:
    """The fields one selection asks of one object type: their response names in order,
    and the fields by what answering them takes."""

    keys: dict[str, None] = field(default_factory=dict)  # every response name, in order
    free: list[PlanField] = field(default_factory=list)  # columns, __typename, viewer fields
    relations: list[PlanField] = field(default_factory=list)  # a loader each
    pages: list[PlanField] = field(default_factory=list)  # connections and root fields


@dataclass(frozen=True, slots=True, eq=False)
class Abstract:
    """An interface: the fields per object type, chosen by the object's class."""

    by_class: Mapping[type, Fields]


Completion = Leaf | Listed | Fields | Abstract


@dataclass(slots=True, eq=False)
class PlanField:
    key: str  # the response name
    kind: str  # column | typename | relation | viewer | page | root
    nullable: bool
    completion: Completion | None  # None for __typename
    attr: str = ""  # column: the object's attribute
    type_name: str = ""  # __typename
    relation: Relation[Any, Any, Any] | None = None
    viewer_field: ViewerField[Any] | None = None
    paged: Paged | None = None
    selects: AbstractSet[str] = frozenset()  # a connection: the fields selected on its nodes
    root: Root | None = None
    # how to read the arguments per request (fields with arguments only)
    definition: GraphQLField | None = None
    node: FieldNode | None = None
    python_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    document: DocumentNode
    operation: OperationDefinitionNode
    root: Fields
    with_arguments: tuple[PlanField, ...]  # every field whose arguments are read per request
    cost: int | None  # the cost estimate when no variable changes it

    @property
    def name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None


# --- compiling --------------------------------------------------------------------------


class _HasDirective(Visitor):
    found = False

    def enter_directive(self, *_: Any) -> None:
        self.found = True


def _has_directives(document: DocumentNode) -> bool:
    visitor = _HasDirective()
    visit(document, visitor)
    return visitor.found


def _validation_errors(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits
) -> Sequence[GraphQLError]:
    """What the reference path's validation reports for `document` (limits first)."""
    return refusals(document, limits) or validate_document(schema, document, tuple(specified_rules))


def compile_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, limits: Limits
) -> Plan | None:
    """The plan of the operation, or None when the reference path must run it."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) != 1:
        return None  # refused by OneOperation on the reference path
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    if _has_directives(document) or _validation_errors(schema, document, limits):
        return None
    compiler = _Compiler(schema, document)
    query = schema.query_type
    assert query is not None
    try:
        root = compiler.fields(query, [operation.selection_set])
    except Unsupported:
        return None
    cost = fixed_estimate(schema, document, operation_name)
    return Plan(document, operation, root, tuple(compiler.with_arguments), cost)


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.with_arguments: list[PlanField] = []

    def _applies(self, condition: Any, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        kind = type_from_ast(self.schema, condition)
        if kind is runtime:
            return True
        return isinstance(kind, GraphQLInterfaceType) and self.schema.is_sub_type(kind, runtime)

    def collect(
        self, runtime: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The spec's CollectFields (no directives: the compiler refuses them), for every
        selection set of a merged field at once, fragments visited once each."""
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit_set(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, runtime):
                        visit_set(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if self._applies(fragment.type_condition, runtime):
                        visit_set(fragment.selection_set)

        for selection_set in selection_sets:
            visit_set(selection_set)
        return grouped

    def fields(
        self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> Fields:
        found = Fields()
        definition = object_type.extensions.get("strawberry-definition")
        if not isinstance(definition, StrawberryObjectDefinition):
            raise Unsupported(object_type.name)
        by_name = {f.python_name: f for f in definition.fields}
        graphql_names = object_type.fields
        for key, nodes in self.collect(object_type, selection_sets).items():
            name = nodes[0].name.value
            found.keys[key] = None
            if name == "__typename":
                found.free.append(
                    PlanField(key, "typename", False, None, type_name=object_type.name)
                )
                continue
            graphql_field = graphql_names.get(name)
            if graphql_field is None:
                raise Unsupported(name)  # introspection
            strawberry_field = graphql_field.extensions.get("strawberry-definition")
            if strawberry_field is None or strawberry_field.python_name not in by_name:
                raise Unsupported(name)
            plan_field = self.field(object_type, key, name, graphql_field, strawberry_field, nodes)
            if plan_field.kind == "relation":
                found.relations.append(plan_field)
            elif plan_field.kind in ("page", "root"):
                found.pages.append(plan_field)
            else:
                found.free.append(plan_field)
        return found

    def field(
        self,
        parent: GraphQLObjectType,
        key: str,
        name: str,
        graphql_field: GraphQLField,
        strawberry_field: Any,
        nodes: list[FieldNode],
    ) -> PlanField:
        nullable = not isinstance(graphql_field.type, GraphQLNonNull)
        completion = self.completion(graphql_field.type, nodes)
        plan = PlanField(key, "column", nullable, completion)
        resolver = strawberry_field.base_resolver
        cls = parent.extensions["strawberry-definition"].origin
        at_root = parent is self.schema.query_type
        if (paged := paged_of(resolver)) is not None:
            plan.kind, plan.paged = "page", paged
            plan.selects = self.node_names(graphql_field.type, nodes)
        elif at_root and (root := ROOT_FIELDS.get(name)) is not None:
            plan.kind, plan.root = "root", root
        elif at_root:
            raise Unsupported(name)
        elif resolver is None:
            plan.attr = strawberry_field.python_name
        elif (relation := relations_of(cls).get(name)) is not None:
            plan.kind, plan.relation = "relation", relation
        elif (viewer_field := viewer_field_of(resolver)) is not None:
            plan.kind, plan.viewer_field = "viewer", viewer_field
        else:
            raise Unsupported(name)
        if graphql_field.args:
            if plan.kind not in ("page", "root"):
                raise Unsupported(name)
            plan.definition, plan.node = graphql_field, nodes[0]
            plan.python_names = {
                argument.graphql_name or argument.python_name: argument.python_name
                for argument in strawberry_field.arguments
            }
            self.with_arguments.append(plan)
        return plan

    def node_names(self, kind: GraphQLOutputType, nodes: list[FieldNode]) -> frozenset[str]:
        """The names of the fields selected on `edges { node { … } }` of a connection's
        occurrences `nodes` (as the reference path's look-ahead reads them)."""
        for step in ("edges", "node"):
            parent = get_named_type(kind)
            assert isinstance(parent, GraphQLObjectType)
            sets = [n.selection_set for n in nodes if n.selection_set is not None]
            nodes = [
                node
                for group in self.collect(parent, sets).values()
                for node in group
                if node.name.value == step
            ]
            kind = parent.fields[step].type
        runtime = get_named_type(kind)
        assert isinstance(runtime, GraphQLObjectType)
        sets = [n.selection_set for n in nodes if n.selection_set is not None]
        return frozenset(group[0].name.value for group in self.collect(runtime, sets).values())

    def completion(self, kind: GraphQLOutputType, nodes: list[FieldNode]) -> Completion:
        if isinstance(kind, GraphQLNonNull):
            kind = kind.of_type
        if isinstance(kind, GraphQLList):
            item = kind.of_type
            return Listed(self.completion(item, nodes), not isinstance(item, GraphQLNonNull))
        if is_leaf_type(kind):
            return Leaf(kind.serialize)
        selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
        if isinstance(kind, GraphQLObjectType):
            return self.fields(kind, selection_sets)
        if isinstance(kind, GraphQLInterfaceType):
            by_class = {}
            for possible in self.schema.get_possible_types(kind):
                origin = possible.extensions["strawberry-definition"].origin
                by_class[origin] = self.fields(possible, selection_sets)
            return Abstract(by_class)
        raise Unsupported(str(kind))


# --- the cache ----------------------------------------------------------------------------


class Plans:
    """Plans by (document text, operation name): the trusted documents' compiled at start
    and kept, others compiled on first use, the `maxsize` most recent kept (None: the
    reference path runs it)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        parse: Callable[[str], DocumentNode],
        limits: Limits,
        *,
        trusted: Iterable[str] = (),
        maxsize: int = 512,
    ) -> None:
        self.schema, self.parse, self.limits, self.maxsize = schema, parse, limits, maxsize
        self._recent: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self._trusted = {(text, None): self._compile(text, None) for text in trusted}

    def _compile(self, query: str, operation_name: str | None) -> Plan | None:
        try:
            document = self.parse(query)
        except GraphQLError:
            return None
        return compile_plan(self.schema, document, operation_name, self.limits)

    def plan(self, query: str, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        if key in self._trusted:
            return self._trusted[key]
        try:
            found = self._recent[key]
        except KeyError:
            found = self._recent[key] = self._compile(query, operation_name)
            if len(self._recent) > self.maxsize:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(key)
        return found


# --- running ------------------------------------------------------------------------------


class _Root:
    row = None


_ROOT = _Root()


@dataclass(slots=True)
class _Batch:
    fields: Fields
    objects: list[Any]
    outputs: list[dict[str, Any]]


async def run(
    plan: Plan,
    ctx: Context,
    schema: GraphQLSchema,
    variables: Mapping[str, Any] | None,
    *,
    max_nodes: int,
) -> dict[str, Any] | None:
    """The response's `data`, or None: the reference path must answer this request."""
    if ctx.authenticated is None:
        return None  # every root field fails: the reference path says how
    coerced = get_variable_values(
        schema, plan.operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        return None
    nodes = plan.cost
    if nodes is None:
        nodes = estimate(schema, plan.document, variables, plan.name)
    ctx.cost = nodes
    if nodes > max_nodes:
        return None
    try:
        arguments = {id(f): _arguments(f, coerced, ctx) for f in plan.with_arguments}
    except Exception:  # an argument the field refuses: the reference path says how
        return None
    data: dict[str, Any] = {}
    try:
        level = [_Batch(plan.root, [_ROOT], [data])]
        seen: dict[tuple[int, Any], Any] = {}  # relation answers, shared (`_run_level`)
        while level:
            level = await _run_level(ctx, level, arguments, seen)
    except Exception:  # the reference path gives the error (or, after a race, the answer)
        return None
    return data


def _arguments(plan_field: PlanField, variables: Any, ctx: Context) -> dict[str, Any]:
    """The field's arguments by Python name, coerced as graphql-core coerces them, and for a
    connection checked as its page function will check them."""
    assert plan_field.definition is not None
    assert plan_field.node is not None
    given = get_argument_values(plan_field.definition, plan_field.node, variables)
    values = {plan_field.python_names[name]: value for name, value in given.items()}
    if plan_field.paged is not None:
        keyset(plan_field.paged.cursors, page_args(values), max_size=ctx.settings.max_page_size)
    if plan_field.root is not None:
        plan_field.root.check(ctx, **values)
    return values


_UNSEEN = object()


async def _run_level(
    ctx: Context,
    level: list[_Batch],
    arguments: Mapping[int, dict[str, Any]],
    seen: dict[tuple[int, Any], Any],
) -> list[_Batch]:
    """Answers one level — the objects as many reads deep — and returns the next."""
    level = _expand(ctx, level)

    # Everything the level reads, at once: one batch per loader, and the pages.
    wanted: dict[KeyedLoader[Any], dict[uuid.UUID, None]] = {}
    reads: list[Awaitable[Any]] = []
    for batch in level:
        for plan_field in batch.fields.relations:
            relation = plan_field.relation
            assert relation is not None
            keys = wanted.setdefault(relation.loader(ctx.loaders), {})
            for obj in batch.objects:
                keys[relation.key(obj.row)] = None
        for plan_field in batch.fields.pages:
            args = arguments.get(id(plan_field), {})
            for obj in batch.objects:
                reads.append(_read(ctx, plan_field, obj, args))
    work = [*reads, *(loader.preload(list(keys)) for loader, keys in wanted.items())]
    if not work:
        return []
    # (one read is awaited as it is: gather would wrap it in a task of its own)
    answers = iter([await work[0]] if len(work) == 1 else await asyncio.gather(*work))

    # What was read; the objects it holds make the next level.
    found: dict[int, _Batch] = {}
    for batch in level:
        fields = batch.fields
        pages = [[next(answers) for _ in batch.objects] for _ in fields.pages]
        for index, (obj, out) in enumerate(zip(batch.objects, batch.outputs, strict=True)):
            for plan_field in fields.relations:
                # The same field of the same row answers the same: worked out once per
                # request and shared (the 20 cards of a page with one owner: one owner).
                relation = plan_field.relation
                assert relation is not None
                key = relation.key(obj.row)
                answered = (id(plan_field), key)
                shown = seen.get(answered, _UNSEEN)
                if shown is _UNSEEN:
                    # NotFound for a row deleted meanwhile: the plan is abandoned
                    value = relation.value(relation.loader(ctx.loaders).ready(key))
                    shown = seen[answered] = _complete(
                        plan_field.completion, plan_field.nullable, value, found
                    )
                out[plan_field.key] = shown
            for plan_field, values in zip(fields.pages, pages, strict=True):
                out[plan_field.key] = _complete(
                    plan_field.completion, plan_field.nullable, values[index], found
                )
    return list(found.values())


def _expand(ctx: Context, level: list[_Batch]) -> list[_Batch]:
    """The level with every object its objects hold without a read (a connection's edges,
    their nodes), each answered as far as it can be without reading: its response names
    set in order, then its columns, `__typename` and viewer fields written."""
    expanded: list[_Batch] = []
    waiting = list(level)
    while waiting:
        batch = waiting.pop(0)
        expanded.append(batch)
        fields = batch.fields
        held: dict[int, _Batch] = {}
        for obj, out in zip(batch.objects, batch.outputs, strict=True):
            out.update(fields.keys)  # the response order, whatever is written first
            for plan_field in fields.free:
                value = _value(ctx, plan_field, obj)
                out[plan_field.key] = _complete(
                    plan_field.completion, plan_field.nullable, value, held
                )
        waiting.extend(held.values())
    return expanded


async def _read(ctx: Context, plan_field: PlanField, obj: Any, args: dict[str, Any]) -> Any:
    if plan_field.root is not None:
        return await plan_field.root.value(ctx, **args)
    paged = plan_field.paged
    assert paged is not None
    page = await paged.page(
        ctx, obj.row, page_args(args), args.get(paged.filter.name), plan_field.selects
    )
    return connection(page, paged.node().from_row)


def _value(ctx: Context, plan_field: PlanField, obj: Any) -> Any:
    """A field answered without a read: a column, `__typename`, a viewer's field."""
    kind = plan_field.kind
    if kind == "column":
        return getattr(obj, plan_field.attr)
    if kind == "typename":
        return plan_field.type_name
    assert plan_field.viewer_field is not None
    return plan_field.viewer_field.value(obj.row, ctx)


def _complete(
    completion: Completion | None, nullable: bool, value: Any, found: dict[int, _Batch]
) -> Any:
    if value is None:
        if not nullable:
            raise Abandon("a non-null field has no value")
        return None
    if completion is None:  # __typename
        return value
    if isinstance(completion, Leaf):
        serialized = completion.serialize(value)
        if serialized is None:
            raise Abandon("a leaf serialized to nothing")
        return serialized
    if isinstance(completion, Listed):
        return [_complete(completion.item, completion.item_nullable, v, found) for v in value]
    fields = completion if isinstance(completion, Fields) else completion.by_class[type(value)]
    out: dict[str, Any] = {}
    batch = found.get(id(fields))
    if batch is None:
        batch = found[id(fields)] = _Batch(fields, [], [])
    batch.objects.append(value)
    batch.outputs.append(out)
    return out
