"""The citizen-replies sample: a citizen answers the library-card decision in their Suomi.fi mailbox.

Runs after the library-card sample. A citizen whose decision reached their Suomi.fi mailbox writes a
reply on the Messages sandbox's mailbox page (``POST /_sandbox/messages/{id}/reply``, what the real
mailbox does), which produces the ``Electronic message from end user`` event. The ``citizen-replies``
deployment is then run, as its 10-minute schedule would: it reads the events, fetches the reply and
queues one ``citizen_reply`` work item for staff, linked to the decision's library-card case. The
check: one item per reply, its parent the case the decision was sent for, the reply's text in the
(sealed) payload and nowhere in the summary.
"""

from __future__ import annotations

import httpx
from prefect.deployments import run_deployment

from apps.demo import DemoResult
from apps.demo.library_card import EXTERNAL_ID_PREFIX
from apps.local_stack import Stack
from processes.citizen_reply import PROCESS

#: citizen-replies queues the replies; the password rotation is deployed beside it (daily; nothing due in a sample run).
DEPLOYMENTS = ("citizen-replies", "viestit-password-rotation")
DEPLOYMENT = "citizen-replies/citizen-replies"
DEFAULT_COUNT = 1
RUN_TIMEOUT_SECONDS = 180
REPLY_TITLE = "Vs: päätös kirjastokortista"
REPLY_BODY = "Kiitos! Voinko noutaa kortin myös lähikirjastosta?"


def run(stack: Stack, *, count: int = DEFAULT_COUNT) -> DemoResult:
    """``count`` citizens reply to their decisions; one run of the deployment queues each reply once."""
    title = "Citizens' replies through Suomi.fi Messages"
    store = stack.sandbox("suomifi_viestit").state.store
    decisions = [
        message
        for message in store.messages.values()
        if message.external_id.startswith(f"{EXTERNAL_ID_PREFIX}-") and message.reply_allowed and not message.replies
    ][: max(count, 0)]
    if not decisions:
        return DemoResult(title, ["no library-card decision in a Suomi.fi mailbox to reply to (run the library-card sample first)"], ok=False)
    mailbox = stack.sandbox_url("suomifi_viestit")
    with httpx.Client(timeout=30) as citizen:
        for decision in decisions:
            answer = citizen.post(f"{mailbox}/_sandbox/messages/{decision.message_id}/reply", data={"title": REPLY_TITLE, "body": REPLY_BODY})
            if answer.status_code != 303:
                return DemoResult(title, [f"the mailbox page refused the reply ({answer.status_code})"], ok=False)
    flow_run = run_deployment(DEPLOYMENT, timeout=RUN_TIMEOUT_SECONDS)
    state = flow_run.state.name if flow_run.state else "unknown"
    lines = [f"{len(decisions)} citizen(s) replied to their decision in the Suomi.fi mailbox; flow run {flow_run.name}: {state}"]
    problems = []
    with stack.settings.work_queue() as queue:
        for decision in decisions:
            (reply,) = decision.replies
            item = queue.find(PROCESS, f"viestit-{reply.message_id}")
            case_id = int(decision.external_id.removeprefix(f"{EXTERNAL_ID_PREFIX}-").split("-")[0])
            if item is None:
                problems.append(f"the reply {reply.message_id} was not queued")
            elif item.parent_id != case_id or item.payload.get("body") != REPLY_BODY:
                problems.append(f"work item {item.id} is not linked to library_card #{case_id} with the reply's text")
            else:
                lines.append(f"work item {PROCESS} #{item.id} ({item.state.value}) for staff, linked to library_card #{case_id}")
        queued = len(queue.list(process=PROCESS, limit=1000))
    if queued != len(decisions):
        problems.append(f"{queued} {PROCESS} items for {len(decisions)} replies")
    lines += [f"PROBLEM: {p}" for p in problems] or ["staff see them with: kuntaflow queue list --process citizen_reply"]
    return DemoResult(title, lines, ok=state == "Completed" and not problems)
