//! Where a keyed record lands: the Java client's default partitioner, which librdkafka's
//! `murmur2_random` (the partitioner reckon's producers use) reproduces. The feeder and the
//! processor leave partitioning to librdkafka; this is for tools that must predict it (the
//! benchmark sizing embedded partitions, the tests checking where a region's reports went).

/// The Java client's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`), which
/// librdkafka's `murmur2_random` partitioner uses for keyed messages: partition =
/// `(murmur2(key) & 0x7fffffff) % partitions`.
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The partition the Java client (and `murmur2_random`) picks for `key` among `partitions`.
pub fn java_partition(key: &[u8], partitions: i32) -> i32 {
    ((murmur2(key) & 0x7fff_ffff) % partitions.max(1) as u32) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_is_the_java_clients() {
        // librdkafka's test vectors (rdmurmur2.c), taken from the Java client.
        assert_eq!(murmur2(b"kafka"), 0xd067_cf64);
        assert_eq!(murmur2(b"giberish123456789"), 0x8f55_2b0c);
        assert_eq!(murmur2(b"1234"), 0x9fc9_7b14);
        assert_eq!(murmur2(b"234"), 0xe7c0_09ca);
        assert_eq!(murmur2(b"34"), 0x8739_30da);
        assert_eq!(murmur2(b"4"), 0x5a4b_5ca1);
        assert_eq!(murmur2(b""), 0x106e_08d9);
    }
}
