//! Column-aligned text as Consul's CLI prints it. Consul uses two formatters, and the
//! gap between columns is what tells them apart:
//! - `columnize` (members, catalog nodes): columns two spaces apart;
//! - Go's `tabwriter` with padding 6 (kv get -detailed, catalog services -tags).
//!
//! Both leave the last column unpadded; trailing spaces are trimmed here.

/// The gap `columnize` leaves between columns.
pub const COLUMNIZE_GAP: usize = 2;
/// The padding Consul's `tabwriter.NewWriter(w, 0, 2, 6, ' ', 0)` leaves.
pub const TABWRITER_GAP: usize = 6;

/// Formats rows so that each column starts at the same offset, `gap` spaces after the
/// widest cell of the column before. Every line ends with `\n`.
pub fn columns(rows: &[Vec<String>], gap: usize) -> String {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|column| {
            rows.iter()
                .filter(|row| column + 1 < row.len())
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if column + 1 < row.len() {
                let pad = widths[column] - cell.chars().count() + gap;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Rows of string slices, for headers and literals.
pub fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.map(str::to_string).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_with_either_gap() {
        let rows = vec![row(["Node", "Address"]), row(["a-long-name", "1.2.3.4"])];
        assert_eq!(
            columns(&rows, COLUMNIZE_GAP),
            "Node         Address\na-long-name  1.2.3.4\n"
        );
        assert_eq!(
            columns(&rows, TABWRITER_GAP),
            "Node             Address\na-long-name      1.2.3.4\n"
        );
    }

    #[test]
    fn last_cells_do_not_widen_columns_and_trailing_space_goes() {
        let rows = vec![
            row(["a", "b", "a-very-long-last-cell"]),
            row(["aa", "", ""]),
        ];
        assert_eq!(columns(&rows, 2), "a   b  a-very-long-last-cell\naa\n");
        assert_eq!(columns(&[], 2), "");
    }
}
