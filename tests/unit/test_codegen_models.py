"""How schemas become the generated models: what models.py says, what Python sees at run time, what mypy accepts.

One document covers the cases (refs, recursion, allOf, oneOf/anyOf, nullable in 3.0 and 3.1 spelling, enums,
const, additionalProperties, keys that are not identifiers, name collisions, alias cycles, formats, empty
schemas, long literals); a user module checked by ``mypy --strict`` marks each line that must be an error
with ``# E``, and the test asserts that exactly those lines fail.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codegen_source import declared_return
from servers.codegen import build, run_mypy


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": "ok", "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _get(op_id: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"get": {"operationId": op_id, "tags": ["pets"], "responses": {"200": _json(schema)}, **extra}}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Pet Store", "version": "1.0"},
    "servers": [{"url": "https://pets.example/v1"}],
    "paths": {
        "/pets/{pet_id}": _get("getPet", _ref("Pet"), parameters=[
            {"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}]),
        "/tree": _get("getTree", _ref("Node")),
        "/things": _get("listThings", {
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {
                "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
                "next": {"type": ["string", "null"]}}}),
        "/others": _get("listOthers", {  # the same inline object again: one class for both
            "type": "object", "required": ["items"],
            "properties": {"items": {"type": "array", "items": {
                "type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}},
                "next": {"type": ["string", "null"]}}}),
        "/weird": _get("getWeird", _ref("Weird")),
        "/maps": _get("getMap", {"type": "object", "additionalProperties": _ref("Pet")}),
        "/free": _get("getFree", _ref("Free")),
        "/anything": _get("getAnything", {}),
        "/users": _get("getUsers", {"type": "array", "items": {"anyOf": [_ref("user"), _ref("User")]}}),
        "/loop": _get("getLoop", _ref("Loop1")),
        "/colors": _get("getColor", {"type": "string", "enum": [f"color-number-{n}" for n in range(12)]}),
        "/legacy": _get("getLegacy", _ref("Legacy")),
        "/dogs": {"post": {
            "operationId": "createDog", "tags": ["pets"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Dog")}}},
            "responses": {"201": _json(_ref("Dog"))}}},
    },
    "components": {"schemas": {
        "Pet": {"oneOf": [_ref("Cat"), _ref("Dog")], "discriminator": {"propertyName": "kind"}},
        "Cat": {"type": "object", "required": ["kind", "name"], "description": "A cat. It purrs.", "properties": {
            "kind": {"const": "cat"}, "name": {"type": "string"},
            "lives": {"type": "integer", "enum": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
            "born": {"type": "string", "format": "date-time"}, "weight": {"type": "number", "enum": [1.5, 2.5]}}},
        "Animal": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "tag": {"type": "string", "nullable": True}}},
        "Dog": {"allOf": [_ref("Animal"), {"type": "object", "required": ["kind"], "properties": {
            "kind": {"type": "string", "enum": ["dog"]},
            "size": {"type": "string", "enum": ["s", "m", "l", None], "nullable": True}}}]},
        "Node": {"type": "object", "required": ["value"], "properties": {
            "value": {"type": "number"}, "children": {"type": "array", "items": _ref("Node")},
            "parent": {"anyOf": [_ref("Node"), {"type": "null"}]}}},
        "Weird": {"type": "object", "required": ["@type", "ok"], "properties": {
            "@type": {"type": "string"}, "ok": {"type": "boolean"}, "x-rate": {"type": "number"},
            "class": {"type": "boolean"}, "__meta": {"type": "object"}}},
        "Free": {"type": "object", "additionalProperties": True},
        "user": {"type": "object", "properties": {"a": {"type": "string"}}},
        "User": {"type": "object", "properties": {"b": {"type": "string"}}},
        "Loop1": _ref("Loop2"),
        "Loop2": _ref("Loop1"),
        "Legacy": {"type": "object", "properties": {"id": {"type": "integer", "x-nullable": True}}},
    }},
}

USER_CODE = '''\
from typing import Any

import myclient
from petstore import PetStoreClient, models
from petstore.pets import Pets

client = PetStoreClient(token="t")
pet: models.Cat | models.Dog = client.pets.get_pet(pet_id=1)
result: myclient.Result[models.Pet] = client.pets.get_pet_detailed(pet_id=1, timeout=5)
client.pets.get_pet(pet_id="1")  # E: an int parameter
client.pets.get_pet(pet_id=1, timeot=5)  # E: a misspelt call option
client.pets.get_pet()  # E: the required argument
cat: models.Cat = {"kind": "cat", "name": "Tom", "born": "2024-01-01T00:00:00Z", "lives": 9, "weight": 1.5}
wrong_kind: models.Cat = {"kind": "dog", "name": "Tom"}  # E: Literal["cat"]
too_many_lives: models.Cat = {"kind": "cat", "name": "Tom", "lives": 10}  # E: Literal[1..9]
dog: models.Dog = {"kind": "dog", "name": "Rex", "tag": None, "size": None}
nameless: models.Dog = {"kind": "dog"}  # E: required key from the allOf part
node: models.Node = {"value": 1.5, "children": [{"value": 2, "parent": None}], "parent": {"value": 0}}
bad_node: models.Node = {"value": 1, "children": [{"parent": None}]}  # E: value is required in children too
weird: models.Weird = {"@type": "x", "ok": True, "class": False, "__meta": {}, "x-rate": 0.5}
weird_missing: models.Weird = {"@type": "x"}  # E: ok is required
things = client.pets.list_things()
first_id: str = things["items"][0]["id"]
next_page: str | None = things.get("next")
same: models.ListThingsResponse = client.pets.list_others()
mapping: dict[str, models.Pet] = client.pets.get_map()
free: dict[str, Any] = client.pets.get_free()
anything: int = client.pets.get_anything()
users: list[models.User | models.User2] = client.pets.get_users()
loop: int = client.pets.get_loop()
color: models.GetColorResponse = client.pets.get_color()
bad_color: models.GetColorResponse = "red"  # E: not one of the enum's values
legacy: models.Legacy = {"id": None}
created: models.Dog = client.pets.create_dog(body=dog)
client.pets.create_dog(body={"kind": "cat", "name": "x"})  # E: a Cat is not a Dog


class MyPets(Pets[myclient.Adapter]):
    def get_pet(self, *, pet_id: int, **options: myclient.codegen.runtime.Unpack[myclient.CallOptions]) -> models.Pet:
        return super().get_pet(pet_id=pet_id + 1, **options)


class MyClient(PetStoreClient):
    pets = myclient.group(MyPets)


mine: MyPets = MyClient(token="t").pets
'''


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    out = tmp_path_factory.mktemp("codegen-models")
    sys.path.insert(0, str(out))
    try:
        package = build(SPEC, out, "petstore")
        yield out, package
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "petstore" or m.startswith("petstore.")]:
            del sys.modules[name]


def _text(out: Path, name: str) -> str:
    return (out / "petstore" / name).read_text()


def _block(text: str, head: str) -> str:
    """The lines of ``text`` from the one starting with ``head`` to the next blank line."""
    start = text.index(head)
    end = text.find("\n\n", start)
    return text[start:end if end >= 0 else None]


def test_required_and_optional_keys_are_a_total_base_and_a_non_total_class(generated: tuple[Path, Any]) -> None:
    out, package = generated
    models = package.models
    assert models.Cat.__required_keys__ == {"kind", "name"}
    assert models.Cat.__optional_keys__ == {"lives", "born", "weight"}
    text = _text(out, "models.py")
    assert _block(text, "class _CatRequired(TypedDict):") == (
        'class _CatRequired(TypedDict):\n    kind: Literal["cat"]\n    name: str')
    assert _block(text, "class Cat(") == (
        'class Cat(_CatRequired, total=False):\n    """A cat."""\n    lives: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9]\n'
        "    born: str\n    weight: float")


def test_all_of_merges_the_keys_of_its_parts(generated: tuple[Path, Any]) -> None:
    _, package = generated
    dog = package.models.Dog
    assert dog.__required_keys__ == {"name", "kind"}
    assert dog.__optional_keys__ == {"tag", "size"}
    hints = typing.get_type_hints(dog)
    assert hints["tag"] == str | None
    assert hints["size"] == typing.Optional[typing.Literal["s", "m", "l"]]


def test_one_of_is_a_union_and_recursion_is_a_forward_reference(generated: tuple[Path, Any]) -> None:
    out, package = generated
    text = _text(out, "models.py")
    assert 'Pet: TypeAlias = "Cat | Dog"' in text
    hints = typing.get_type_hints(package.models.Node)
    assert hints["children"] == list[package.models.Node]
    assert hints["parent"] == package.models.Node | None
    assert package.models.Node.__required_keys__ == {"value"}


def test_keys_that_are_not_identifiers_use_the_functional_syntax(generated: tuple[Path, Any]) -> None:
    out, package = generated
    weird = package.models.Weird
    assert weird.__required_keys__ == {"@type", "ok"}
    assert weird.__optional_keys__ == {"x-rate", "class", "__meta"}
    text = _text(out, "models.py")
    assert '_WeirdRequired = TypedDict("_WeirdRequired", {"@type": str, "ok": bool})\n' in text
    assert ('_WeirdOptional = TypedDict("_WeirdOptional", {"x-rate": float, "class": bool, "__meta": dict[str, Any]}, '
            "total=False)\n") in text
    assert "class Weird(_WeirdRequired, _WeirdOptional):" in text


def test_names_are_unique_and_inline_objects_are_named_after_where_they_appear(
        generated: tuple[Path, Any]) -> None:
    out, package = generated
    models = package.models
    assert set(typing.get_type_hints(models.User)) == {"a"}  # "user" came first
    assert set(typing.get_type_hints(models.User2)) == {"b"}
    assert models.ListThingsResponse.__required_keys__ == {"items"}
    assert models.ListThingsResponseItemsItem.__required_keys__ == {"id"}
    assert "ListOthersResponse" not in _text(out, "models.py")  # an identical inline object shares the class
    pets = _text(out, "pets.py")
    assert declared_return(pets, "list_others") == "models.ListThingsResponse"


def test_the_other_mappings(generated: tuple[Path, Any]) -> None:
    out, package = generated
    text = _text(out, "models.py")
    pets = _text(out, "pets.py")
    assert "Free: TypeAlias = dict[str, Any]" in text
    assert declared_return(pets, "get_map") == "dict[str, models.Pet]"
    assert declared_return(pets, "get_anything") == "Any"
    assert "Loop1: TypeAlias = Any" in text and 'Loop2: TypeAlias = "Loop1"' in text  # a cycle of aliases, cut
    assert typing.get_type_hints(package.models.Legacy)["id"] == int | None  # x-nullable
    assert typing.get_type_hints(package.models.Cat)["weight"] is float  # a float enum is no Literal
    assert "GetColorResponse: TypeAlias = Literal[\n" in text  # a long literal: named and wrapped


def test_mypy_strict_accepts_the_package_and_rejects_exactly_the_marked_lines(generated: tuple[Path, Any]) -> None:
    out, _ = generated
    (out / "user_code.py").write_text(USER_CODE)
    proc = run_mypy(out, ["-p", "petstore", "-m", "user_code"])
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if not e.startswith("user_code.py:")], proc.stdout
    failing = sorted({int(re.match(r"user_code\.py:(\d+):", e).group(1)) for e in errors})  # type: ignore[union-attr]
    marked = [n for n, line in enumerate(USER_CODE.splitlines(), 1) if "# E" in line]
    assert failing == marked, proc.stdout
