"""Route templates, precedence and path decoding, without a server."""

from __future__ import annotations

import pytest

from devhost.routing import Route, Router, RouteTemplate, RouteTemplateError, join_prefix, split_path


def _router(*routes: tuple[str, frozenset[str] | None]) -> Router[str]:
    return Router(Route(RouteTemplate.parse(text), methods, text) for text, methods in routes)


def _resolve(router: Router[str], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = router.resolve(method, path)
    return None if found is None else (found.target, found.route_params)


def test_literal_segments_match_case_insensitively() -> None:
    assert RouteTemplate.parse("api/Items").match(["API", "items"]) == {}
    assert RouteTemplate.parse("api/items").match(["api", "other"]) is None


def test_parameters_take_one_non_empty_segment() -> None:
    template = RouteTemplate.parse("items/{id}")
    assert template.match(["items", "7"]) == {"id": "7"}
    assert template.match(["items"]) is None
    assert template.match(["items", "7", "x"]) is None
    assert template.match(["items", ""]) is None


def test_optional_parameter_may_be_absent() -> None:
    template = RouteTemplate.parse("opt/{value?}")
    assert template.match(["opt"]) == {}
    assert template.match(["opt", "x"]) == {"value": "x"}


def test_default_value_fills_an_absent_parameter() -> None:
    assert RouteTemplate.parse("page/{n:int=1}").match(["page"]) == {"n": "1"}


def test_catch_all_takes_the_rest_or_nothing() -> None:
    template = RouteTemplate.parse("files/{*path}")
    assert template.match(["files", "a", "b.txt"]) == {"path": "a/b.txt"}
    assert template.match(["files"]) == {}
    assert RouteTemplate.parse("files/{**path}").match(["files", "x"]) == {"path": "x"}


@pytest.mark.parametrize(
    ("constraint", "accepted", "refused"),
    [
        ("int", ["0", "-12", "2147483647"], ["1.5", "abc", "2147483648"]),
        (
            "guid",
            ["3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E04F8911D39A0C0305E82C3301"],
            ["3f2504e0", "not-a-guid"],
        ),
        ("alpha", ["abc", "ABC"], ["ab1", "a-b"]),
        ("bool", ["true", "False"], ["yes", "1"]),
        ("length(3)", ["anything"], []),
    ],
)
def test_constraints(constraint: str, accepted: list[str], refused: list[str]) -> None:
    template = RouteTemplate.parse(f"x/{{v:{constraint}}}")
    for value in accepted:
        assert template.match(["x", value]) == {"v": value}
    for value in refused:
        assert template.match(["x", value]) is None


def test_unknown_constraints_are_reported() -> None:
    assert RouteTemplate.parse("x/{v:int:regex(^a:b$)}").unchecked_constraints == ("regex(^a:b$)",)


def test_literal_beats_constrained_beats_parameter_beats_optional_beats_catch_all() -> None:
    router = _router(
        ("{*rest}", None),
        ("items/{name?}", None),
        ("items/{name}", None),
        ("items/{id:int}", None),
        ("items/new", None),
    )
    assert _resolve(router, "GET", "/items/new") == ("items/new", {})
    assert _resolve(router, "GET", "/items/5") == ("items/{id:int}", {"id": "5"})
    assert _resolve(router, "GET", "/items/abc") == ("items/{name}", {"name": "abc"})
    assert _resolve(router, "GET", "/items") == ("items/{name?}", {})
    assert _resolve(router, "GET", "/other/thing") == ("{*rest}", {"rest": "other/thing"})


def test_wrong_method_falls_through_to_the_next_route() -> None:
    router = _router(("things/{id}", frozenset({"GET"})), ("things/{*rest}", None))
    assert _resolve(router, "GET", "/things/1") == ("things/{id}", {"id": "1"})
    assert _resolve(router, "DELETE", "/things/1") == ("things/{*rest}", {"rest": "1"})
    assert _resolve(_router(("things/{id}", frozenset({"GET"}))), "POST", "/things/1") is None


def test_path_segments_are_decoded_except_an_encoded_slash() -> None:
    assert split_path("/a%20b/c%2Fd/") == ["a b", "c%2Fd"]
    assert split_path("/") == []


@pytest.mark.parametrize(
    "template",
    ["a/{*rest}/b", "a/{x?}/b", "a/{x}.{y}", "a//b", "a/{x}/{X}", "a/{}"],
)
def test_templates_the_host_would_refuse_fail_at_load(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        RouteTemplate.parse(template)


def test_join_prefix_allows_an_empty_prefix() -> None:
    assert join_prefix("api", "/items/") == "api/items"
    assert join_prefix("", "items") == "items"
