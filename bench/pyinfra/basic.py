"""basic.yml of ../shared/fleet-samples as a pyinfra deploy, for bench/fleet.sh's same-run peer.

Equivalent, task by task (same files, modes and contents on the target):
  ensure directory  -> files.directory, mode 755
  write config      -> files.put of the same text, mode 644
  set port line     -> files.line (pyinfra creates the file when it is missing, as create: true)
  run a command     -> server.shell("uname -a")
  shell pipeline + check output -> one python.call that runs the pipeline on the host and
                       asserts its output is HELLO (pyinfra operations do not register output
                       for a later task; this is its way to read a command's output and check it)
Checked on one host (fleet run, then pyinfra, from clean targets): the same files, contents and modes.
Not equivalent: pyinfra decides what to change from facts it gathers first (a round trip per
fact per host) and sends each command as its own SSH channel; that is how pyinfra works, and
the cost is part of what is measured.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, python, server

base = f"/tmp/fleet-samples/{host.name}"

files.directory(name="ensure directory", path=base, mode="755")
files.put(
    name="write config", src=StringIO(f"host={host.name}\n"), dest=f"{base}/app.conf", mode="644"
)
files.line(name="set port line", path=f"{base}/ports.conf", line="port=8080")
server.shell(name="run a command", commands=["uname -a"])


def check_output():
    status, output = host.run_shell_command("echo hello | tr a-z A-Z")
    assert status, "the pipeline failed"
    lines = output.stdout_lines if hasattr(output, "stdout_lines") else output
    assert list(lines) == ["HELLO"], f"unexpected output {lines!r}"


python.call(name="shell pipeline, check output", function=check_output)
