#!/usr/bin/env bash
# Ansible's own integration targets under ansible-playbook and fleet (issue 18 item 1).
#
#   bench/ansible_targets.sh [TARGET,...]     default: every target of tests/fleet/ansible_targets.rs
#
# Runs the `all_targets` test of tests/fleet/ansible_targets.rs: the ansible-core sdist of the
# reference venv's version is fetched with pip into target/ansible-sdist-<version>/ (once),
# then each integration target runs under both tools on its own real sshd target (role-style
# targets as a role with remote_tmp_dir/output_dir supplied; runme.sh-style targets as the
# playbooks their script expects to pass), parts this machine cannot give skipped for both
# with the reasons written in the test. Prints one line per target, then
#   ansible-playbook: N targets passed / M run
#   fleet: N targets passed / M run
# and fails (exit 1) when fleet fails a target ansible-playbook passes. ansible-playbook takes
# minutes per target on 2 cores: the whole run is about 15 minutes.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export AIT_ONLY=${1:-}
cargo test -q -p fleet --test fleet_ansible_targets -- --ignored all_targets --nocapture 2>&1 \
  | grep -E '^[a-z_]+ +ansible-playbook: |targets passed / |^test result|panicked'
exit "${PIPESTATUS[0]}"
