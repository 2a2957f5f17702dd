#!/usr/bin/env python3
"""Reads `go test -json` events and compares the failing top-level tests with
known-failures.txt (see run.sh). Usage: report.py RESULTS KNOWN PARTIAL LOG, or
report.py --finished RESULTS PACKAGE (the package's tests that have a result)."""
import json
import sys
from collections import defaultdict


def load_known(path):
    """`TestName  # reason` per line; `#` lines and blank lines are comments."""
    known = {}
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            name, _, reason = line.partition("#")
            name = name.strip()
            if not name:
                continue
            if name in known:
                sys.exit(f"{path}:{number}: {name} is listed twice")
            known[name] = reason.strip()
    return known


def finished(results, package):
    """Prints the top-level tests of `package` that have a result."""
    done = set()
    with open(results) as events:
        for line in events:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            test = event.get("Test")
            if (
                event.get("Package") == package
                and test
                and "/" not in test
                and event.get("Action") in ("pass", "fail", "skip")
            ):
                done.add(test)
    print("\n".join(sorted(done)))


def main():
    if sys.argv[1] == "--finished":
        return finished(sys.argv[2], sys.argv[3])
    if sys.argv[1] == "--hanging":
        hanging = [name for name, reason in load_known(sys.argv[2]).items() if reason.startswith("hangs:")]
        return print("\n".join(hanging))
    results, known_path, partial, log_path = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
    known = load_known(known_path)
    outcome = {}  # (package, test) -> pass/fail/skip
    started = set()
    output = defaultdict(list)
    package_fail = {}
    package_output = defaultdict(list)
    with open(results) as events:
        for line in events:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            package = event.get("Package", "").replace("github.com/hashicorp/consul/", "")
            test = event.get("Test")
            action = event.get("Action")
            if test is None:
                if action == "output":
                    package_output[package].append(event.get("Output", ""))
                elif action == "fail":
                    package_fail[package] = True
                continue
            top = test.split("/", 1)[0]
            if action == "output":
                output[(package, top)].append(event.get("Output", ""))
            if "/" in test:
                continue  # subtests decide their parent's outcome, which is what counts
            if action == "run":
                started.add((package, test))
            elif action in ("pass", "fail", "skip"):
                outcome[(package, test)] = action
    for key in started:
        outcome.setdefault(key, "fail")  # started, never finished: a panic or a timeout

    by_name = defaultdict(list)
    for package, test in outcome:
        by_name[test].append(package)
    problems = []
    for name, packages in by_name.items():
        if len(packages) > 1 and name in known:
            problems.append(f"{name} exists in {', '.join(packages)}: the list cannot tell them apart")

    passed = [key for key, result in outcome.items() if result == "pass"]
    skipped = [key for key, result in outcome.items() if result == "skip"]
    failed = sorted(key for key, result in outcome.items() if result == "fail")
    listed_failed = [key for key in failed if key[1] in known]
    unexpected = [key for key in failed if key[1] not in known]
    now_passing = sorted(
        key for key in passed if key[1] in known and not known[key[1]].startswith("flaky:")
    )
    hanging = sorted(name for name, reason in known.items() if reason.startswith("hangs:"))
    if not partial:
        for name in sorted(set(known) - set(by_name) - set(hanging)):
            problems.append(f"known-failures.txt lists {name}, which did not run (renamed or removed?)")

    with open(log_path, "w") as log:
        for key in failed:
            log.write(f"===== {key[0]} {key[1]}\n")
            log.writelines(output[key])
        for package in package_fail:
            log.write(f"===== package {package}\n")
            log.writelines(package_output[package][-50:])
    for package, test in unexpected:
        print(f"FAIL (not in known-failures.txt): {package} {test}")
        tail = [line for line in output[(package, test)] if line.strip()][-15:]
        for line in tail:
            print(f"    {line.rstrip()}")
    for package, test in now_passing:
        print(f"NOW PASSES (remove it from known-failures.txt): {package} {test}  # {known[test]}")
    for problem in problems:
        print(f"ERROR: {problem}")
    if not outcome:
        print("ERROR: no test ran; see the go test output:")
        for package, lines in package_output.items():
            print("".join(lines[-30:]))
        problems.append("no test ran")
    listed_failed += [("(not run)", name) for name in hanging if name not in by_name]
    total = len(outcome) + len(hanging)
    print(
        f"go-consul-api: {len(passed)} passed / {len(listed_failed)} known failures / "
        f"{len(skipped)} skipped / {total} total top-level tests "
        f"({len(unexpected)} unexpected failures, {len(now_passing)} listed tests now pass); "
        f"failing tests' output: {log_path}"
    )
    print(f"go-consul-api: {len(passed)} passed, {len(failed)} failed")
    sys.exit(1 if unexpected or now_passing or problems else 0)


if __name__ == "__main__":
    main()
