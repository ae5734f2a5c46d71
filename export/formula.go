package export

// Neutralize returns cell as a spreadsheet shows it as text: a cell starting with =, +, -, @,
// a tab or a carriage return would be taken for a formula (CSV injection), so it gets a
// leading apostrophe; any other cell is returned as it is.
func Neutralize(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}
