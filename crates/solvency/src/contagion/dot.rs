//! Graphviz DOT export of the contagion map: pools as boxes, markets as ellipses, assets as
//! diamonds; an edge's label is its kind and weight. With a shock report, each pool and market
//! also shows its loss, and nodes that lose are filled.

use super::graph::{EdgeKind, Graph, NodeRef};
use super::shock::ShockReport;
use std::fmt::Write;

fn id(n: NodeRef) -> String {
    match n {
        NodeRef::Pool(p) => format!("pool{}", p.0),
        NodeRef::Market(m) => format!("market{}", m.0),
        NodeRef::Asset(a) => format!("asset{}", a.0),
    }
}

fn shape(n: NodeRef) -> &'static str {
    match n {
        NodeRef::Pool(_) => "box",
        NodeRef::Market(_) => "ellipse",
        NodeRef::Asset(_) => "diamond",
    }
}

fn style(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Holds | EdgeKind::Underlying => "solid",
        EdgeKind::SharedCollateral | EdgeKind::SharedUnderlying => "bold",
        EdgeKind::SharedOwner => "dashed",
    }
}

/// Escapes a label for a double-quoted DOT string.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph (and the losses of a shock, if given) as a DOT document; amounts in whole quote
/// tokens (`quote_decimals` places).
pub fn to_dot(g: &Graph, shock: Option<&ShockReport>, quote_decimals: u8) -> String {
    let q = |v| crate::dec::human(v, quote_decimals);
    let mut s = String::from("graph contagion {\n  node [fontname=\"Helvetica\"];\n");
    for (n, name) in &g.nodes {
        let loss = shock.and_then(|r| r.losses.iter().find(|l| l.node == *n));
        let (label, fill) = match loss {
            Some(l) if l.loss > 0 => (
                format!("{}\\nloss {}", esc(name), q(l.loss)),
                ", style=filled",
            ),
            Some(l) => (format!("{}\\nloss {}", esc(name), q(l.loss)), ""),
            None => (esc(name), ""),
        };
        let _ = writeln!(
            s,
            "  {} [label=\"{}\", shape={}{}];",
            id(*n),
            label,
            shape(*n),
            fill
        );
    }
    for e in &g.edges {
        let _ = writeln!(
            s,
            "  {} -- {} [label=\"{} {}\", style={}];",
            id(e.a),
            id(e.b),
            e.kind.name(),
            q(e.weight),
            style(e.kind)
        );
    }
    s.push_str("}\n");
    s
}
