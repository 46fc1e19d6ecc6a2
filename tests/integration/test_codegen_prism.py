"""A generated client against Prism serving the same document: GitHub's REST API, every GET operation.

Prism (``-d``, seed 1) checks each request against the document (path, query and header parameters,
credentials) and answers with data generated from the documented response schema; the generated method must
send a request Prism accepts and return the answer decoded into its declared type. Other methods are covered
against a MockTransport (test_codegen_corpus.py): their bodies need values in the documented formats, which
synthesized arguments do not have.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import PrismServer, judge
from servers.codegen import _Reader, build, conforms, synthesize

import myclient
from myclient.codegen.runtime import Op


@pytest.fixture(scope="module")
def github(openapi_spec: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("codegen-prism")
    sys.path.insert(0, str(out))
    try:
        yield build(openapi_spec("github"), out, "github_prism")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == "github_prism"]:
            del sys.modules[name]


def test_every_get_operation_is_accepted_and_answers_in_its_declared_type(
        github: Any, prism: Callable[..., PrismServer]) -> None:
    server = prism("github", dynamic=True, seed=1)
    client = github.GitHubV3RESTAPIClient(server.url, token="ghp_prism", sleep=lambda seconds: None)
    rejected: list[str] = []
    misfit: list[str] = []
    called = 0
    for attr, descriptor in vars(type(client)).items():
        cls = getattr(descriptor, "cls", None)
        if cls is None:
            continue
        cls = typing.get_origin(cls) or cls  # Users[myclient.Adapter] -> Users
        module = sys.modules[cls.__module__]
        reader = _Reader(module, github.models)
        for name, func in vars(cls).items():
            op = vars(module).get("_" + name.upper())
            if not isinstance(op, Op) or op.method != "GET" or name.endswith("_detailed"):
                continue
            arguments = {p.name: synthesize(reader.text(p.annotation, reader.module_ns), reader)
                         for p in inspect.signature(func).parameters.values()
                         if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
            try:
                result = getattr(getattr(client, attr), f"{name}_detailed")(**arguments, follow_redirects=False)
                status, headers, content, data = result.status, result.headers, result.content, result.data
            except myclient.HTTPError as error:
                status, headers, data = error.status, error.headers, None
                content = error.response.content if error.response is not None else b""
            called += 1
            verdict = judge(status, headers, content)
            if verdict.rejected:
                rejected.append(f"{attr}.{name}: {verdict.describe()[:200]}")
            elif 200 <= status < 300 and not verdict.mock_failed:
                declared = (typing.get_overloads(func) or [func])[0].__annotations__["return"]
                why = conforms(data, reader.text(declared, reader.module_ns), reader)
                if why:
                    misfit.append(f"{attr}.{name}: {why[:200]}")
    assert called > 400
    assert rejected == []
    assert misfit == []
