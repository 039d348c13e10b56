//! Playbooks parsed into plays, blocks and tasks, with every error naming file:line:column.
