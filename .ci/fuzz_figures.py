"""One line of figures from a schemathesis NDJSON report: requests, 5xx, failed checks by kind.

python .ci/fuzz_figures.py REPORT.ndjson LABEL
"""

import json
import sys
from collections import Counter


def figures(path: str) -> tuple[int, Counter[int], Counter[str]]:
    requests, statuses, failed = 0, Counter[int](), Counter[str]()
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if not finished:
                continue
            recorder = finished["recorder"]
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response")
                if response is not None:
                    requests += 1
                    statuses[response["status_code"]] += 1
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    if check["status"] == "failure":
                        failed[check["name"]] += 1
    return requests, statuses, failed


def main() -> int:
    path, label = sys.argv[1], sys.argv[2]
    requests, statuses, failed = figures(path)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    kinds = ", ".join(f"{name} {n}" for name, n in sorted(failed.items())) or "none"
    print(
        f"fuzz figures [{label}]: {requests} requests, {server_errors} server errors (5xx), "
        f"failed checks: {kinds}; statuses {dict(sorted(statuses.items()))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
