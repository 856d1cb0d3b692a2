"""Query cost limits and the error codes of pre-execution failures.

Limit rules are built once per schema (not per request) so the validation cache stays
effective; their errors carry `QUERY_TOO_COMPLEX`. Validation errors that carry no code get
theirs here, so the HTTP layer can tell them from variable coercion errors; parse errors are
told apart by type.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from graphql.validation import ASTValidationRule, ValidationContext, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
# graphql-core's only signal that `max_tokens` stopped the parser is this message.
_TOKEN_LIMIT_PREFIX = "Document contains more than"


def _coded(rule: type[ValidationRule], code: str) -> type[ValidationRule]:
    """The rule, its errors carrying `code`.

    Strawberry's limit rules do all their work in `__init__` and report through the
    context directly, so the context's reporter is wrapped for that call.
    """

    class Coded(rule):  # type: ignore[valid-type,misc]
        def __init__(self, context: ValidationContext) -> None:
            report = context.report_error

            def coded_report(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": code}
                report(error)

            context.report_error = coded_report  # type: ignore[method-assign]
            try:
                super().__init__(context)
            finally:
                context.report_error = report  # type: ignore[method-assign]

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


def limit_rules(*, max_depth: int, max_aliases: int) -> list[type[ASTValidationRule]]:
    return [
        _coded(depth_rule(max_depth, None, None), QUERY_TOO_COMPLEX),
        _coded(aliases_rule(max_aliases), QUERY_TOO_COMPLEX),
    ]


def _tag(errors: list[GraphQLError] | None, code: str) -> None:
    for error in errors or ():
        if not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": code}


class ErrorPhases(SchemaExtension):
    """Codes validation failures; runs outermost (listed first), after ValidationCache."""

    def on_validate(self) -> Iterator[None]:
        yield
        _tag(self.execution_context.pre_execution_errors, "GRAPHQL_VALIDATION_FAILED")


def code_of_syntax_error(error: GraphQLError) -> str:
    """Parse errors (raised out of the parser cache) are coded by type, here."""
    if _TOKEN_LIMIT_PREFIX in error.message:
        return QUERY_TOO_COMPLEX
    return "GRAPHQL_PARSE_FAILED"
