//! Reads `schema.xml` into the model and checks every block layout.

use std::collections::BTreeMap;

use roxmltree::{Document, Node};

use super::error::CodegenError;
use super::model::{Data, EnumValue, Field, Group, Message, Prim, Schema, TypeDef};

/// Parses and validates a schema.
///
/// # Errors
/// Any [`CodegenError`]: malformed XML, a missing attribute, an unknown type, or field offsets
/// that do not tile the declared block length exactly.
pub fn parse(xml: &str) -> Result<Schema, CodegenError> {
    let doc = Document::parse(xml)?;
    let root = doc.root_element();
    let id = num(root, "id")?;
    let version = num(root, "version")?;
    if root.attribute("byteOrder") != Some("littleEndian") {
        return Err(CodegenError::Unsupported(
            "byteOrder must be littleEndian".into(),
        ));
    }
    let mut types = BTreeMap::new();
    let mut group_max = 0;
    let mut var_data_max = 0;
    for types_node in root.children().filter(|n| n.has_tag_name("types")) {
        for node in types_node.children().filter(Node::is_element) {
            let name = attr(node, "name")?.to_string();
            match node.tag_name().name() {
                "type" => {
                    types.insert(name, parse_type(node)?);
                }
                "enum" => {
                    let ty = parse_enum(node, &name, false)?;
                    types.insert(name, ty);
                }
                "set" => {
                    let ty = parse_enum(node, &name, true)?;
                    types.insert(name, ty);
                }
                "composite" => match name.as_str() {
                    "messageHeader" => {}
                    "groupSizeEncoding" => group_max = member_max(node, "numInGroup")?,
                    "varStringEncoding" => var_data_max = member_max(node, "length")?,
                    _ => {
                        types.insert(name.clone(), parse_decimal(node, &name)?);
                    }
                },
                other => return Err(CodegenError::Unsupported(format!("<{other}> in <types>"))),
            }
        }
    }
    let mut messages = Vec::new();
    for node in root.children().filter(|n| n.tag_name().name() == "message") {
        messages.push(parse_message(node, &types)?);
    }
    Ok(Schema {
        id,
        version,
        types,
        group_max,
        var_data_max,
        messages,
    })
}

fn attr<'a>(node: Node<'a, '_>, attribute: &'static str) -> Result<&'a str, CodegenError> {
    node.attribute(attribute)
        .ok_or_else(|| CodegenError::MissingAttribute {
            element: node.tag_name().name().to_string(),
            name: node.attribute("name").unwrap_or("").to_string(),
            attribute,
        })
}

fn num<T: std::str::FromStr>(node: Node, attribute: &'static str) -> Result<T, CodegenError> {
    let text = attr(node, attribute)?;
    text.parse().map_err(|_| CodegenError::BadValue {
        context: format!("{}@{attribute}", node.attribute("name").unwrap_or("schema")),
        value: text.to_string(),
    })
}

fn prim_of(node: Node, attribute: &'static str) -> Result<Prim, CodegenError> {
    let text = attr(node, attribute)?;
    Prim::parse(text).ok_or_else(|| CodegenError::BadValue {
        context: format!("{}@{attribute}", node.attribute("name").unwrap_or("")),
        value: text.to_string(),
    })
}

fn parse_type(node: Node) -> Result<TypeDef, CodegenError> {
    let prim = prim_of(node, "primitiveType")?;
    if let Some(len) = node.attribute("length") {
        let len = len.parse().map_err(|_| CodegenError::BadValue {
            context: "length".into(),
            value: len.into(),
        })?;
        if !matches!(prim, Prim::Char | Prim::U8) {
            return Err(CodegenError::Unsupported(
                "arrays other than char/uint8".into(),
            ));
        }
        return Ok(TypeDef::Array { len });
    }
    let null = match node.attribute("presence") {
        Some("optional") => Some(attr(node, "nullValue")?.to_string()),
        _ => None,
    };
    Ok(TypeDef::Scalar {
        prim,
        null,
        exponent: None,
    })
}

fn parse_enum(node: Node, name: &str, is_set: bool) -> Result<TypeDef, CodegenError> {
    let prim = prim_of(node, "encodingType")?;
    let child_tag = if is_set { "choice" } else { "validValue" };
    let mut values = Vec::new();
    for child in node.children().filter(|n| n.has_tag_name(child_tag)) {
        let text = child.text().unwrap_or("").trim();
        let value = if prim == Prim::Char && !is_set {
            match text.as_bytes() {
                [b] => u64::from(*b),
                _ => return Err(bad(name, text)),
            }
        } else {
            text.parse().map_err(|_| bad(name, text))?
        };
        values.push(EnumValue {
            name: attr(child, "name")?.to_string(),
            value,
            description: attr(child, "description")?.to_string(),
        });
    }
    let description = attr(node, "description")?.to_string();
    let name = name.to_string();
    Ok(if is_set {
        TypeDef::Set {
            name,
            prim,
            choices: values,
            description,
        }
    } else {
        TypeDef::Enum {
            name,
            prim,
            values,
            description,
        }
    })
}

fn bad(context: &str, value: &str) -> CodegenError {
    CodegenError::BadValue {
        context: context.to_string(),
        value: value.to_string(),
    }
}

fn member_max(node: Node, member: &str) -> Result<usize, CodegenError> {
    let child = node
        .children()
        .find(|n| n.attribute("name") == Some(member))
        .ok_or_else(|| CodegenError::Unsupported(format!("composite lacks member {member}")))?;
    num(child, "maxValue")
}

/// Accepts a composite made of one encoded integer member (the mantissa) and one constant
/// exponent: the decimal shape the schema uses for prices, quantities and amounts.
fn parse_decimal(node: Node, name: &str) -> Result<TypeDef, CodegenError> {
    let mut prim = None;
    let mut null = None;
    let mut exponent = None;
    for member in node.children().filter(|n| n.has_tag_name("type")) {
        if member.attribute("presence") == Some("constant") {
            let text = member.text().unwrap_or("").trim();
            exponent = Some(text.parse::<i8>().map_err(|_| bad(name, text))?);
        } else if prim.is_none() {
            prim = Some(prim_of(member, "primitiveType")?);
            if member.attribute("presence") == Some("optional") {
                null = Some(attr(member, "nullValue")?.to_string());
            }
        } else {
            return Err(CodegenError::Unsupported(format!(
                "composite {name}: two encoded members"
            )));
        }
    }
    let prim =
        prim.ok_or_else(|| CodegenError::Unsupported(format!("composite {name} is empty")))?;
    Ok(TypeDef::Scalar {
        prim,
        null,
        exponent,
    })
}

fn parse_fields(
    owner: &str,
    node: Node,
    types: &BTreeMap<String, TypeDef>,
    block_length: usize,
) -> Result<Vec<Field>, CodegenError> {
    let mut fields = Vec::new();
    let mut end = 0;
    for f in node.children().filter(|n| n.has_tag_name("field")) {
        let field = Field {
            name: attr(f, "name")?.to_string(),
            id: num(f, "id")?,
            ty: attr(f, "type")?.to_string(),
            offset: num(f, "offset")?,
            optional: f.attribute("presence") == Some("optional"),
            description: attr(f, "description")?.to_string(),
        };
        let ty = types
            .get(&field.ty)
            .ok_or_else(|| CodegenError::UnknownType {
                field: field.name.clone(),
                ty: field.ty.clone(),
            })?;
        if field.offset != end {
            return Err(CodegenError::BadOffset {
                owner: owner.to_string(),
                field: field.name,
                offset: field.offset,
                expected: end,
            });
        }
        end += ty.size();
        fields.push(field);
    }
    if end != block_length {
        return Err(CodegenError::BadBlockLength {
            owner: owner.to_string(),
            declared: block_length,
            computed: end,
        });
    }
    Ok(fields)
}

fn parse_message(node: Node, types: &BTreeMap<String, TypeDef>) -> Result<Message, CodegenError> {
    let name = attr(node, "name")?.to_string();
    let block_length = num(node, "blockLength")?;
    let fields = parse_fields(&name, node, types, block_length)?;
    let mut groups = Vec::new();
    for g in node.children().filter(|n| n.has_tag_name("group")) {
        if attr(g, "dimensionType")? != "groupSizeEncoding" {
            return Err(CodegenError::Unsupported(
                "dimensionType other than groupSizeEncoding".into(),
            ));
        }
        let group_name = attr(g, "name")?.to_string();
        let group_block = num(g, "blockLength")?;
        groups.push(Group {
            fields: parse_fields(&group_name, g, types, group_block)?,
            name: group_name,
            id: num(g, "id")?,
            block_length: group_block,
            description: attr(g, "description")?.to_string(),
        });
    }
    let mut data = Vec::new();
    for d in node.children().filter(|n| n.has_tag_name("data")) {
        if attr(d, "type")? != "varStringEncoding" {
            return Err(CodegenError::Unsupported(
                "data types other than varStringEncoding".into(),
            ));
        }
        data.push(Data {
            name: attr(d, "name")?.to_string(),
            id: num(d, "id")?,
            description: attr(d, "description")?.to_string(),
        });
    }
    Ok(Message {
        id: num(node, "id")?,
        semantic_type: attr(node, "semanticType")?.to_string(),
        description: attr(node, "description")?.to_string(),
        name,
        block_length,
        fields,
        groups,
        data,
    })
}
