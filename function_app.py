"""The Functions app: builds it and registers the blueprints. Nothing else, and nothing heavy at import."""

import azure.functions as func

from functions import (
    ask,
    captions,
    erasure_jobs,
    fallback,
    join,
    maintenance,
    me,
    meetings,
    notes,
    operations,
    pipeline,
    realtime,
    recordings,
    search,
    system,
)
from shared.startup import refuse_unsafe_start

refuse_unsafe_start()

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(system.bp)
app.register_functions(meetings.bp)
app.register_functions(join.bp)
app.register_functions(recordings.bp)
app.register_functions(notes.bp)
app.register_functions(ask.bp)
app.register_functions(pipeline.bp)
app.register_functions(maintenance.bp)
app.register_functions(realtime.bp)
app.register_functions(search.bp)
app.register_functions(operations.bp)
app.register_functions(me.bp)
app.register_functions(erasure_jobs.bp)
app.register_functions(captions.bp)
# Last, and lowest in route precedence: it answers whatever no other function takes.
app.register_functions(fallback.bp)
