//! hozon: scanned paper records → signed, timestamped, long-term verifiable PDF archives.
