"""webapp.yml of ../shared/fleet-samples (role app included) as a pyinfra deploy, for
bench/fleet.sh's same-run peer. The role's template is rendered from the sample role itself
($FLEET_SAMPLES/roles/app/templates/app.conf.j2) with trim_blocks, as Ansible renders it.

Equivalent, task by task (same files, modes and contents on the target after a first run):
  Gathering Facts   -> the one fact the play uses (LinuxDistribution, for os_family Debian);
                       Ansible's setup gathers many more, fleet's a /proc-based subset
  app directory, app config from template -> files.directory (755), files.template (644)
  mode file, written only when absent -> files.put, only when the File fact says it is absent
  marker replaced in place -> files.replace (sed) with the same regexp and replacement
  per-user directories -> files.directory (750) for each of alice, bob, carol
  only on Debian-family hosts -> files.put of "os=Debian", when the distribution is Debian-like
  probe a file that is not there + react -> the File fact, and the message printed
  risky step with recovery -> /bin/false with _ignore_errors; "never reached" only if it
                       succeeded, the rescue copy only if it failed (_if), always: files.line
  flags file from a loop over a dict -> files.line for search=true, beta=false
  handler restart app -> files.line on restarts.log, _if the template or the replace changed
Checked on one host (fleet run, then pyinfra, from clean targets): the same files with the same
contents and modes, except the intermediate directory home/, which Ansible and fleet create with the
task's mode (0750) and pyinfra's `mkdir -p` with the umask's (0755).
Not equivalent: pyinfra's replace reports a change whenever the pattern matches (so its second
run changes mode.conf and restarts.log again, where Ansible's and fleet's change nothing), and
pyinfra gathers the facts its operations need on every host before it changes anything (a round
trip per fact per host), then runs each command on its own SSH channel.
"""

import os
from io import StringIO

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import files, server
from pyinfra.operations.util import any_changed

root = f"/tmp/fleet-samples/{host.name}"
app_users = ["alice", "bob", "carol"]
feature_flags = {"search": True, "beta": False}
samples = os.environ.get("FLEET_SAMPLES", "../../../shared/fleet-samples")

# facts the play uses
distro = host.get_fact(LinuxDistribution)
meta = distro.get("release_meta") or {}
debian_family = distro.get("name") in ("Debian", "Ubuntu") or "debian" in (
    meta.get("ID_LIKE") or ""
)

# role app
files.directory(name="app : app directory", path=f"{root}/app", mode="755")
config = files.template(
    name="app : app config from template",
    src=f"{samples}/roles/app/templates/app.conf.j2",
    dest=f"{root}/app/app.conf",
    mode="644",
    jinja_env_kwargs={"trim_blocks": True},
    app_name="demo",
    app_port=8081,
    inventory_hostname=host.name,
    app_users=app_users,
)
if host.get_fact(File, path=f"{root}/app/mode.conf") is None:
    files.put(
        name="app : mode file, written only when absent",
        src=StringIO("mode=development\n"),
        dest=f"{root}/app/mode.conf",
    )
marker = files.replace(
    name="app : marker replaced in place",
    path=f"{root}/app/mode.conf",
    text="^mode=.*$",
    replace="mode=production",
)

# play tasks
for user in app_users:
    files.directory(name="per-user directories", path=f"{root}/home/{user}", mode="750")
if debian_family:
    files.put(
        name="only on Debian-family hosts", src=StringIO("os=Debian\n"), dest=f"{root}/os.txt"
    )
probe = host.get_fact(File, path=f"{root}/missing")
print(f"{host.name}: missing file is absent: {probe is None}")
failing = server.shell(name="this fails", commands=["/bin/false"], _ignore_errors=True)
files.file(name="never reached", path=f"{root}/never", touch=True, _if=failing.did_succeed)
files.put(
    name="record the rescue",
    src=StringIO("rescued\n"),
    dest=f"{root}/rescued.txt",
    _if=failing.did_error,
)
files.line(name="always runs", path=f"{root}/log.txt", line="always ran")
for key, value in feature_flags.items():
    files.line(
        name="flags file from a loop over a dict",
        path=f"{root}/flags.conf",
        line=f"{key}={str(value).lower()}",
    )

# handler
files.line(
    name="restart app",
    path=f"{root}/app/restarts.log",
    line="restarted",
    _if=any_changed(config, marker),
)
