"""The benchmark harness: task suites in three layouts (terminal tasks as Harbor and
Terminal-Bench 2.0 write them, SWE-bench instances, CyberGym-style PoC tasks), each attempt
prepared, solved and verified in the sandbox, run by an engine, and recorded so that a run
resumes where it stopped.

    tasks, suite          the task model, the loaders' checks, finding a suite's tasks
    dockerfile            what a terminal task's Dockerfile makes, and whether bwrap can stand in
    terminal, swe, poc    each kind: load, prepare (what the agent gets), verify
    attempt               one attempt's folders and sandboxes; Workspace, Verdict, InfraError
    agents                the bench-agent protocol; oracle, null, agents from a user's file
    runner                Settings, Job, the Engine protocol and the local engine, Worker
    results, progress     the results file, totals, compare; what is shown while it runs

`opensage bench run|compare` (cli_bench.py) is the command line.
"""

RETRIES = 2  # tries more after an infrastructure error
