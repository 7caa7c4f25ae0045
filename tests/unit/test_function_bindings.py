"""What the Functions host and worker read from the app: bindings, and annotations they can resolve."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import registered_functions


def test_every_function_annotates_its_parameters_with_real_types() -> None:
    # The worker matches parameters to bindings by their annotated types: a string (what a module with
    # `from __future__ import annotations` leaves) would fail the function's indexing in Azure.
    for name, function in registered_functions().items():
        annotations = function.get_user_function().__annotations__
        strings = {k: v for k, v in annotations.items() if isinstance(v, str)}
        assert not strings, f"{name} has string annotations: {strings}"


def test_every_job_queue_has_its_poison_handler_on_the_host_connection() -> None:
    queues: dict[str, str] = {}
    for name, function in registered_functions().items():
        trigger = function.get_trigger()
        if trigger.get_binding_name() == "queueTrigger":
            queues[trigger.queue_name] = name
            assert trigger.connection == "AzureWebJobsStorage", name
    jobs = {q for q in queues if not q.endswith("-poison")}
    assert jobs == {"transcription-jobs", "summary-jobs", "recording-fetch-jobs", "erasure-jobs"}
    assert {f"{q}-poison" for q in jobs} <= set(queues)


def test_the_upload_is_an_event_grid_trigger_not_a_blob_trigger() -> None:
    kinds = {f.get_trigger().get_binding_name() for f in registered_functions().values()}
    assert "blobTrigger" not in kinds  # a Python blob trigger would hand the worker the whole recording
    assert registered_functions()["recording_uploaded"].get_trigger().get_binding_name() == "eventGridTrigger"


def test_importing_the_app_loads_nothing_heavy() -> None:
    # Cold start: the worker imports function_app before anything runs. Models, media, providers and SDKs
    # load with the first request that needs them (a trigger module without postponed annotations once
    # pulled pydantic in through a handler's annotation).
    heavy = ("pydantic", "av", "openai", "tiktoken", "pocketsphinx", "azure.storage", "azure.cosmos",
             "azure.communication", "azure.identity", "aiohttp")  # fmt: skip
    probe = f"import sys, function_app; print(sorted(m for m in sys.modules if m.startswith({heavy!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
