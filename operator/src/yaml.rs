//! YAML output that YAML 1.1 readers (kubectl's older parsers, PyYAML) read back unchanged.
//! serde_yaml writes YAML 1.2, where `Off`, `yes` or `on` are plain strings; a 1.1 parser turns
//! them into booleans (e.g. the CRD default `updateMode: Off` became `false`). Quote them.

/// Plain scalars that YAML 1.1 reads as booleans.
const YAML11_BOOLEANS: [&str; 18] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "Yes", "No",
];

/// Quote every plain scalar value (after `key: ` or `- `) that a YAML 1.1 parser would misread.
pub fn yaml11_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let value_start = body.rfind(": ").map(|i| i + 2).or_else(|| {
            let trimmed = body.trim_start();
            trimmed
                .starts_with("- ")
                .then(|| body.len() - trimmed.len() + 2)
        });
        match value_start {
            Some(start) if YAML11_BOOLEANS.contains(&&body[start..]) => {
                out.push_str(&body[..start]);
                out.push('\'');
                out.push_str(&body[start..]);
                out.push('\'');
            }
            _ => out.push_str(body),
        }
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::yaml11_safe;

    #[test]
    fn booleans_of_yaml_1_1_are_quoted() {
        let text = "a: Off\nlist:\n- Off\n- Initial\nb: 'yes'\nc: Offline\nd: true\n  - on\n";
        assert_eq!(
            yaml11_safe(text),
            "a: 'Off'\nlist:\n- 'Off'\n- Initial\nb: 'yes'\nc: Offline\nd: true\n  - 'on'\n"
        );
    }
}
