//! Column-aligned tables as Consul's CLI prints them (columns two spaces apart).

/// Formats rows so that each column starts at the same offset; no trailing spaces.
pub fn columns(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|column| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[column]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let rows = vec![
            vec!["Node".to_string(), "Address".to_string()],
            vec!["a-long-name".to_string(), "1.2.3.4".to_string()],
        ];
        assert_eq!(
            columns(&rows),
            "Node         Address\na-long-name  1.2.3.4\n"
        );
    }
}
