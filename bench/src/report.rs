//! The one output format of every benchmark: rows of figure, same-run reference and ratio.

use serde_json::{json, Value};

/// One measured figure, with the reference measured in the same run.
#[derive(Debug, Clone)]
pub struct Row {
    /// Issue item, e.g. `"3 latency"`.
    pub item: &'static str,
    pub figure: String,
    pub value: f64,
    pub unit: &'static str,
    /// What the figure is compared with (empty when there is no reference).
    pub reference: String,
    pub ref_value: Option<f64>,
    /// The goal from the issue, printed next to the figure (never checked).
    pub goal: String,
}

impl Row {
    /// A figure without a reference.
    pub fn new(
        item: &'static str,
        figure: impl Into<String>,
        value: f64,
        unit: &'static str,
    ) -> Row {
        Row {
            item,
            figure: figure.into(),
            value,
            unit,
            reference: String::new(),
            ref_value: None,
            goal: String::new(),
        }
    }

    /// Adds the same-run reference.
    pub fn vs(mut self, reference: impl Into<String>, value: f64) -> Row {
        self.reference = reference.into();
        self.ref_value = Some(value);
        self
    }

    /// Adds the goal text.
    pub fn goal(mut self, goal: impl Into<String>) -> Row {
        self.goal = goal.into();
        self
    }

    fn to_json(&self) -> Value {
        let ratio = self
            .ref_value
            .filter(|r| *r != 0.0)
            .map(|r| (self.value / r * 1000.0).round() / 1000.0);
        json!({
            "item": self.item, "figure": self.figure, "value": round(self.value), "unit": self.unit,
            "reference": self.reference, "ref_value": self.ref_value.map(round),
            "ratio": ratio, "goal": self.goal,
        })
    }
}

fn round(v: f64) -> f64 {
    let digits = if v.abs() >= 100.0 { 1.0 } else { 1000.0 };
    (v * digits).round() / digits
}

/// Prints the rows as one JSON object on stdout, and readably on stderr.
pub fn print(rows: &[Row]) {
    for r in rows {
        let reference = match r.ref_value {
            Some(v) => format!(
                "  vs {} {:.3} {} ({:.2}x)",
                r.reference,
                v,
                r.unit,
                r.value / v
            ),
            None => String::new(),
        };
        eprintln!("  {}: {:.3} {}{reference}", r.figure, r.value, r.unit);
    }
    let rows: Vec<Value> = rows.iter().map(Row::to_json).collect();
    println!("{}", json!({ "rows": rows }));
}
