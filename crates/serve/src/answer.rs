//! The HTTP answer to a submission, rendered once: by the handler, or by the writer when the
//! request carries an idempotency key (the rendered answer is journaled with the commands, so a
//! retry gets the same answer and nothing is applied twice, even across a restart).

use crate::writer::Outcome;
use std::fmt::Write;

/// Status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

fn outcome_json(out: &Outcome, s: &mut String) {
    match out {
        Outcome::Accepted { seq, events } => {
            let _ = write!(s, "{{\"seq\":{seq},\"events\":{events}}}");
        }
        Outcome::Refused(r) => {
            let body = serde_json::to_string(&r.body).expect("error bodies serialize");
            let _ = write!(s, "{{\"status\":{},\"error\":{body}}}", r.status.as_u16());
        }
    }
}

/// A single command: its accepted body, or its refusal with the refusal's status. A batch:
/// 200 with `{accepted, refused, results: [...]}` in order.
pub fn render(outs: &[Outcome], single: bool) -> Answer {
    if single {
        if let Some(Outcome::Refused(r)) = outs.first() {
            let body = serde_json::to_string(&r.body).expect("error bodies serialize");
            return Answer {
                status: r.status.as_u16(),
                body,
            };
        }
        let mut s = String::new();
        if let Some(o) = outs.first() {
            outcome_json(o, &mut s);
        }
        return Answer {
            status: 200,
            body: s,
        };
    }
    let accepted = outs
        .iter()
        .filter(|o| matches!(o, Outcome::Accepted { .. }))
        .count();
    let mut s = format!(
        "{{\"accepted\":{accepted},\"refused\":{},\"results\":[",
        outs.len() - accepted
    );
    for (i, o) in outs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        outcome_json(o, &mut s);
    }
    s.push_str("]}");
    Answer {
        status: 200,
        body: s,
    }
}
