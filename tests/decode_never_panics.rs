//! No input makes a decoder panic: arbitrary bytes, structurally valid protobuf with arbitrary
//! fields and values, and valid encodings of reports and updates with bytes flipped, inserted,
//! removed or the message cut short, fed to all four decoders (JSON and protobuf, report and
//! update). Each must return `Ok` or `Err`.

mod support;

use proptest::collection::vec;
use proptest::prelude::*;

use reckon::wire::{self, json, proto, ContentType};
use support::arbitrary;

/// Feeds bytes to every decoder. A panic fails the test case.
fn decode_all(bytes: &[u8]) {
    for ct in [ContentType::Json, ContentType::Protobuf] {
        let _ = wire::decode_report(bytes, ct);
        let _ = wire::decode_update(bytes, ct);
    }
}

/// One edit to a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, mask: u8 },
    Set { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Remove { at: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, mask)| Edit::Flip { at, mask }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Insert { at, byte }),
        any::<usize>().prop_map(|at| Edit::Remove { at }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let n = bytes.len();
        match *e {
            Edit::Flip { at, mask } if n > 0 => bytes[at % n] ^= mask,
            Edit::Set { at, byte } if n > 0 => bytes[at % n] = byte,
            Edit::Insert { at, byte } => bytes.insert(at % (n + 1), byte),
            Edit::Remove { at } if n > 0 => {
                bytes.remove(at % n);
            }
            Edit::Truncate { at } => bytes.truncate(at % (n + 1)),
            _ => {}
        }
    }
}

/// Protobuf wire format with arbitrary field numbers, wire types and values, nested up to three
/// levels: it gets past the parser into the mapping code (enum values out of range, missing
/// sub-messages, absurd timestamps, invalid UTF-8 in strings).
fn protobuf_fields() -> impl Strategy<Value = Vec<u8>> {
    let leaf = vec(
        (
            1u32..16,
            prop_oneof![
                any::<u64>().prop_map(Field::Varint),
                any::<i64>().prop_map(|v| Field::Varint(v as u64)),
                vec(any::<u8>(), 0..24).prop_map(Field::Bytes),
                any::<u64>().prop_map(Field::Fixed64),
                any::<u32>().prop_map(Field::Fixed32),
            ],
        ),
        0..8,
    )
    .prop_map(|fs| encode_fields(&fs));
    leaf.prop_recursive(3, 64, 8, |inner| {
        vec(
            (
                1u32..16,
                prop_oneof![
                    any::<u64>().prop_map(Field::Varint),
                    inner.prop_map(Field::Bytes),
                ],
            ),
            0..8,
        )
        .prop_map(|fs| encode_fields(&fs))
    })
}

#[derive(Debug, Clone)]
enum Field {
    Varint(u64),
    Bytes(Vec<u8>),
    Fixed64(u64),
    Fixed32(u32),
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn encode_fields(fields: &[(u32, Field)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (number, f) in fields {
        let key =
            |wire_type: u64, out: &mut Vec<u8>| varint(u64::from(*number) << 3 | wire_type, out);
        match f {
            Field::Varint(v) => {
                key(0, &mut out);
                varint(*v, &mut out);
            }
            Field::Fixed64(v) => {
                key(1, &mut out);
                out.extend_from_slice(&v.to_le_bytes());
            }
            Field::Bytes(b) => {
                key(2, &mut out);
                varint(b.len() as u64, &mut out);
                out.extend_from_slice(b);
            }
            Field::Fixed32(v) => {
                key(5, &mut out);
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(bytes in vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_protobuf_fields(bytes in protobuf_fields()) {
        decode_all(&bytes);
    }

    #[test]
    fn mutated_reports(r in arbitrary::report(), edits in vec(edit(), 1..8)) {
        for mut bytes in [json::encode_report(&r), proto::encode_report(&r)] {
            apply(&mut bytes, &edits);
            decode_all(&bytes);
        }
    }

    #[test]
    fn mutated_updates(u in arbitrary::update(), edits in vec(edit(), 1..8)) {
        for mut bytes in [json::encode_update(&u), proto::encode_update(&u)] {
            apply(&mut bytes, &edits);
            decode_all(&bytes);
        }
    }
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    // JSON nesting far beyond serde_json's recursion limit.
    let mut deep = vec![b'['; 100_000];
    deep.extend(vec![b']'; 100_000]);
    decode_all(&deep);
    let mut obj = Vec::new();
    for _ in 0..50_000 {
        obj.extend_from_slice(b"{\"a\":");
    }
    decode_all(&obj);
    // Protobuf: a length-delimited unknown field nested far beyond prost's recursion limit.
    let mut msg: Vec<u8> = Vec::new();
    for _ in 0..1000 {
        let mut outer = Vec::new();
        varint(15 << 3 | 2, &mut outer);
        varint(msg.len() as u64, &mut outer);
        outer.extend_from_slice(&msg);
        msg = outer;
    }
    decode_all(&msg);
}
