//! YAML out, block style. Written here rather than with yaml-rust2's
//! emitter (the tree's YAML crate): that one leaves a string plain unless
//! YAML 1.2 would read it as another type, so IAM's `Version: 2012-10-17`
//! comes out as a YAML 1.1 timestamp to PyYAML-based tools (moto,
//! cfn-lint's loader) and a tag value such as `1_000` as an integer, and it
//! cannot be told otherwise. Here every string is double-quoted (JSON's
//! escaping, which is valid YAML) and every other scalar is JSON's: nothing
//! is left for a parser to guess.
//!
//! Key order is the order built: the template's sections and each
//! resource's Type / DependsOn / Properties as CloudFormation's own examples
//! write them (`Ordered`), JSON objects in serde_json's map order (sorted).
//! Nothing else varies, so the bytes are deterministic.

use serde_json::Value;

/// A template node: a mapping in the order built, or a JSON value.
#[derive(Debug)]
pub enum Node {
    Map(Ordered),
    Json(Value),
}

impl Node {
    pub fn json(value: Value) -> Node {
        Node::Json(value)
    }
}

/// A mapping that keeps the order its keys were pushed in.
#[derive(Debug, Default)]
pub struct Ordered(Vec<(String, Node)>);

impl Ordered {
    pub fn push(&mut self, key: &str, node: Node) {
        self.0.push((key.to_string(), node));
    }

    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, n)| n)
    }
}

/// What is written: scalars already in their final text.
enum Tree {
    Scalar(String),
    Map(Vec<(String, Tree)>),
    List(Vec<Tree>),
}

fn tree(node: &Node) -> Tree {
    match node {
        Node::Map(Ordered(entries)) => {
            Tree::Map(entries.iter().map(|(k, n)| (k.clone(), tree(n))).collect())
        }
        Node::Json(value) => json_tree(value),
    }
}

fn json_tree(value: &Value) -> Tree {
    match value {
        Value::Object(map) if !map.is_empty() => {
            Tree::Map(map.iter().map(|(k, v)| (k.clone(), json_tree(v))).collect())
        }
        Value::Array(items) if !items.is_empty() => {
            Tree::List(items.iter().map(json_tree).collect())
        }
        Value::Object(_) => Tree::Scalar("{}".into()),
        Value::Array(_) => Tree::Scalar("[]".into()),
        // JSON's string escaping is valid YAML double-quoted style.
        scalar => Tree::Scalar(scalar.to_string()),
    }
}

/// The document as YAML text, ending in a newline.
pub fn emit(node: &Node) -> String {
    let mut out = String::from("---\n");
    write(&mut out, &tree(node), 0);
    out
}

/// A collection at `indent` (a scalar document on its own line).
fn write(out: &mut String, t: &Tree, indent: usize) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Scalar(text) => out.push_str(&format!("{pad}{text}\n")),
        Tree::Map(entries) => {
            for (key, value) in entries {
                out.push_str(&format!("{pad}{}:", key_text(key)));
                match value {
                    Tree::Scalar(text) => out.push_str(&format!(" {text}\n")),
                    nested => {
                        out.push('\n');
                        write(out, nested, indent + 2);
                    }
                }
            }
        }
        Tree::List(items) => {
            for item in items {
                match item {
                    Tree::Scalar(text) => out.push_str(&format!("{pad}- {text}\n")),
                    nested => {
                        // The item as if indented two more, its first
                        // indentation replaced by the dash.
                        let mut inner = String::new();
                        write(&mut inner, nested, indent + 2);
                        out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                    }
                }
            }
        }
    }
}

/// Plain when made of letters, digits and `::` joints (`Fn::GetAtt`),
/// else quoted.
fn key_text(key: &str) -> String {
    let plain = key.split("::").all(|part| {
        part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && part.chars().all(|c| c.is_ascii_alphanumeric())
    });
    match plain {
        true => key.to_string(),
        false => Value::String(key.to_string()).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn order_is_as_built_and_every_string_is_quoted() {
        let mut m = Ordered::default();
        m.push("Type", Node::json(json!("AWS::SNS::Topic")));
        m.push(
            "Properties",
            Node::json(json!({
                "b": "true", "a": "2012-10-17", "c": 80, "d": {"Fn::Sub": "x"},
                "e": [{"Key": "k", "Value": "1_000"}, "s"], "f": [], "kms:ViaService": 5.5
            })),
        );
        let text = emit(&Node::Map(m));
        assert_eq!(
            text,
            "---\nType: \"AWS::SNS::Topic\"\nProperties:\n  a: \"2012-10-17\"\n  b: \"true\"\n  c: 80\n  d:\n    Fn::Sub: \"x\"\n  e:\n    - Key: \"k\"\n      Value: \"1_000\"\n    - \"s\"\n  f: []\n  \"kms:ViaService\": 5.5\n"
        );
    }
}
