//! One copy of a task's variables for all its evaluations (issue 18, 1,000 hosts).
//!
//! A task evaluates its conditions, arguments and flags against the same variables, one after
//! another; these hold every host's name several times (`groups`, `ansible_play_hosts`...), so
//! a copy per evaluation costs O(hosts) each time and O(hosts²) over a run: at 1,000 hosts it
//! was most of the controller's time. Comparing is much cheaper than copying, so an evaluation
//! whose variables are exactly the last ones shares their copy.

use std::sync::Arc;

use serde_json::Value;

thread_local! {
    /// The variables of this thread's last evaluation. A task evaluates its conditions, its
    /// arguments and its flags against the same variables, one after another; these hold every
    /// host's name several times (`groups`, `ansible_play_hosts`...), so a copy per evaluation
    /// costs O(hosts) each time and O(hosts²) over a run: 1,000 hosts made it most of the
    /// controller's time. Comparing is much cheaper than copying, so an evaluation whose
    /// variables are exactly the last ones (same keys in the same order, same values) shares
    /// their copy.
    static LAST_VARS: std::cell::RefCell<Option<Arc<Value>>> = const { std::cell::RefCell::new(None) };
}

/// `vars` as an `Arc`, the last evaluation's copy when it is exactly the same.
pub(crate) fn shared_vars(vars: &Value) -> Arc<Value> {
    LAST_VARS.with(|last| {
        let mut last = last.borrow_mut();
        if let Some(cached) = last.as_ref().filter(|c| identical(c, vars)) {
            return cached.clone();
        }
        let fresh = Arc::new(vars.clone());
        *last = Some(fresh.clone());
        fresh
    })
}

/// Equal and in the same order (serde_json's `==` ignores the order of a mapping's keys, which
/// a template can see).
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(va, vb)| identical(va, vb))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Templar;
    use serde_json::json;

    /// Issue 18 (1,000 hosts): evaluations share the last variables' copy only when they are
    /// exactly the same; a changed value, or the same mapping in another order, is seen as it is.
    #[test]
    fn a_shared_copy_is_only_reused_for_identical_variables() {
        let t = Templar::new();
        let a = json!({"d": {"x": 1, "y": 2}, "n": "a"});
        assert_eq!(
            t.render_str("{{ n }} {{ d }}", &a).unwrap(),
            "a {'x': 1, 'y': 2}"
        );
        let first = shared_vars(&a);
        assert!(Arc::ptr_eq(&first, &shared_vars(&a)));
        let reordered = json!({"d": {"y": 2, "x": 1}, "n": "a"});
        assert_eq!(a, reordered, "serde_json's == ignores the order");
        assert!(!identical(&a, &reordered));
        assert_eq!(
            t.render_str("{{ n }} {{ d }}", &reordered).unwrap(),
            "a {'y': 2, 'x': 1}"
        );
        let changed = json!({"d": {"x": 1, "y": 2}, "n": "b"});
        assert_eq!(t.render_str("{{ n }}", &changed).unwrap(), "b");
        assert!(!identical(&json!([1, 2]), &json!([1, 2, 3])));
        assert!(!identical(&json!(1), &json!(1.0)));
    }
}
