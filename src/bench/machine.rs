//! What the benchmark ran on: cores, CPU model, memory, load average (Linux `/proc`), and the
//! process's resident set size.

use serde::Serialize;

/// The 1, 5 and 15 minute load averages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LoadAverage(pub [f64; 3]);

impl LoadAverage {
    /// Reads `/proc/loadavg`.
    pub fn now() -> Option<Self> {
        std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| Self::parse(&s))
    }

    /// Parses the first three fields of a `/proc/loadavg` line.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split_whitespace().map(|f| f.parse::<f64>().ok());
        Some(Self([it.next()??, it.next()??, it.next()??]))
    }
}

impl std::fmt::Display for LoadAverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} {:.2} {:.2}", self.0[0], self.0[1], self.0[2])
    }
}

/// The machine, at the start of the run (and its load at the end).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// Logical CPUs this process may use.
    pub cores: usize,
    /// The CPU model name, from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Total memory, bytes.
    pub memory_bytes: Option<u64>,
    /// The OS kernel release.
    pub kernel: String,
    /// Load average when the run started.
    pub load_start: Option<LoadAverage>,
    /// Load average when the run ended.
    pub load_end: Option<LoadAverage>,
}

impl Machine {
    /// Looks at this machine now.
    pub fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines().find_map(|l| {
                let rest = l.strip_prefix("MemTotal:")?;
                let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
                Some(kb * 1024)
            })
        });
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model,
            memory_bytes,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            load_start: LoadAverage::now(),
            load_end: None,
        }
    }

    /// Records the load average at the end of the run.
    pub fn finish(&mut self) {
        self.load_end = LoadAverage::now();
    }

    /// One line: cores, CPU, memory, load at start and end.
    pub fn summary(&self) -> String {
        let show = |l: &Option<LoadAverage>| l.map_or("?".to_string(), |l| l.to_string());
        format!(
            "{} cores, {}, {} GiB RAM, Linux {}; load average (1/5/15 min) {} at start, {} at end",
            self.cores,
            self.cpu_model,
            self.memory_bytes.map_or("?".to_string(), |b| format!(
                "{:.0}",
                b as f64 / (1u64 << 30) as f64
            )),
            self.kernel,
            show(&self.load_start),
            show(&self.load_end)
        )
    }
}

/// This process's resident set size in bytes (`/proc/self/statm`, second field, in pages).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE.get_or_init(read_page_size)
}

fn read_page_size() -> u64 {
    // The page size is 4 KiB on every Linux target this runs on except some arm64/ppc64
    // kernels; `/proc/self/smaps` tells it without libc.
    std::fs::read_to_string("/proc/self/smaps")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let rest = l.strip_prefix("KernelPageSize:")?;
                let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
                Some(kb * 1024)
            })
        })
        .unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_average_parses() {
        assert_eq!(
            LoadAverage::parse("1.47 2.58 3.94 3/512 12345\n"),
            Some(LoadAverage([1.47, 2.58, 3.94]))
        );
        assert_eq!(LoadAverage::parse("1.0 x 2.0"), None);
        assert_eq!(LoadAverage::parse(""), None);
        assert_eq!(LoadAverage([1.0, 0.5, 0.25]).to_string(), "1.00 0.50 0.25");
    }

    #[test]
    fn this_machine_is_described() {
        let mut m = Machine::probe();
        m.finish();
        assert!(m.cores >= 1);
        let s = m.summary();
        assert!(s.contains("cores") && s.contains("load average"), "{s}");
        assert!(rss_bytes().unwrap_or(1) > 0);
    }
}
