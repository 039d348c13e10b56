//! SSH connections to hosts: one russh connection per host for the whole run, a long-lived
//! remote shell serving every task, known_hosts checking, and the route through the bastion.
