#!/usr/bin/env python3
"""Post a pipeline event to Teams or Slack through an incoming webhook read from an environment variable.

The URL stays secret: it is never printed. When the variable is unset (or --channel none), print the message that
would have been sent and exit 0, so a missing webhook never fails a pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, describe, guarded
from common.files import parse_pairs

STATUS_ICONS = {"succeeded": "✅", "success": "✅", "failed": "❌", "failure": "❌", "started": "▶️"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--event", required=True, help="what happened, e.g. training, deployment-production")
    parser.add_argument("--model-name", required=True, help="model name")
    parser.add_argument("--status", required=True, help="succeeded, failed, ...")
    parser.add_argument("--detail", action="append", default=[], metavar="KEY=VALUE", help="fact (repeatable)")
    parser.add_argument("--channel", required=True, choices=("teams", "slack", "none"),
                        help="where the message goes; none only prints it")
    parser.add_argument("--webhook-env", required=True, help="NAME of the environment variable holding the URL")
    parser.add_argument("--email", action="append", default=[], help="recipient listed in the message (repeatable)")
    return add_common_arguments(parser)


def message(event: str, model: str, status: str, details: dict[str, str], emails: list[str]) -> tuple[str, list[str]]:
    icon = STATUS_ICONS.get(status.lower(), "ℹ️")
    title = f"{icon} {model}: {event} {status}"
    facts = [f"{key}: {value}" for key, value in details.items()]
    if emails:
        facts.append(f"recipients: {', '.join(emails)}")
    return title, facts


def payload(channel: str, title: str, facts: list[str]) -> dict[str, Any]:
    if channel == "slack":
        return {"text": title, "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
            *([{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(facts)}}] if facts else [])]}
    # Teams workflow webhooks take an Adaptive Card attachment.
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": f.split(": ", 1)[0], "value": f.split(": ", 1)[1]}
                                                  for f in facts]})
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.4", "body": body}}]}


def post(url: str, data: dict[str, Any]) -> int:
    if not url.startswith("https://"):
        raise ScriptError("the webhook URL must use https")  # never echo the URL itself
    request = urllib.request.Request(url, data=json.dumps(data).encode("utf-8"), method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
        return int(response.status)


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    title, facts = message(args.event, args.model_name, args.status, parse_pairs(args.detail, "--detail"), args.email)
    url = os.environ.get(args.webhook_env, "").strip()
    if args.channel == "none" or not url:
        reason = "no chat channel configured" if args.channel == "none" else f"{args.webhook_env} is not set"
        print(f"{reason}; would send:\n{title}" + "".join(f"\n  {fact}" for fact in facts))
        return 0
    try:
        status = post(url, payload(args.channel, title, facts))
    except OSError as exc:  # a notification must not fail the pipeline it reports on
        print(f"warning: {args.channel} notification failed: {type(exc).__name__}", file=sys.stderr)
        return 0
    print(f"sent {args.channel} notification ({status}): {title}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
