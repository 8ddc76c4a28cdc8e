//! The device/driver registry as a CSV file (the fleet's spreadsheet of trackers, plates and
//! drivers): reading it into typed rows, with an error per bad line that says how to fix it.
//!
//! The header names the columns, in any order and spelling the fleet uses (case, spaces and
//! punctuation are ignored, and common aliases are accepted: `Number Plate`, `Reg`, `Department`
//! ...). Only `imei` is required, plus an account for each row (a column, or a default given by
//! the importer). Values are trimmed; empty cells are "not given" and never erase what the
//! registry knows. Quoting follows RFC 4180 (quotes around fields, doubled quotes inside), and a
//! byte-order mark, CRLF line ends and `;` or tab separators (spreadsheet exports) are accepted.

use serde::Serialize;

/// `events.raw.source` of registry imports.
pub const SOURCE: &str = "csv_import";
/// `events.raw.kind` of a registry CSV file.
pub const KIND: &str = "registry_csv";

/// One registry line.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Row {
    /// 1-based line number in the file (the header is line 1).
    pub line: usize,
    pub imei: String,
    pub account: Option<String>,
    pub plate: Option<String>,
    pub vehicle_name: Option<String>,
    pub make: Option<String>,
    pub vehicle_model: Option<String>,
    /// The tracker model (`mcType`).
    pub model: Option<String>,
    pub sim: Option<String>,
    pub driver_name: Option<String>,
    pub driver_phone: Option<String>,
    pub employee_no: Option<String>,
    pub cost_centre: Option<String>,
    pub city: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
}

/// A line that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub error: String,
}

/// What a file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Parsed {
    pub rows: Vec<Row>,
    pub errors: Vec<LineError>,
    /// Header columns that were not recognised (ignored, listed so a typo is visible).
    pub ignored_columns: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Col {
    Imei,
    Account,
    Plate,
    VehicleName,
    Make,
    VehicleModel,
    Model,
    Sim,
    Driver,
    Phone,
    EmployeeNo,
    CostCentre,
    City,
    Country,
}

/// Header spellings, compared after lower-casing and dropping everything but letters and digits.
const ALIASES: &[(Col, &[&str])] = &[
    (Col::Imei, &["imei", "deviceimei", "trackerimei"]),
    (
        Col::Account,
        &["account", "target", "subaccount", "vendoraccount"],
    ),
    (
        Col::Plate,
        &[
            "plate",
            "numberplate",
            "vehiclenumber",
            "registration",
            "reg",
            "regno",
            "car",
            "licenseplate",
            "licenceplate",
        ],
    ),
    (Col::VehicleName, &["vehiclename", "vehicle"]),
    (Col::Make, &["make", "brand", "vehiclebrand"]),
    (Col::VehicleModel, &["vehiclemodel", "vehiclemodels"]),
    (
        Col::Model,
        &["model", "devicemodel", "trackermodel", "mctype"],
    ),
    (Col::Sim, &["sim", "simnumber", "msisdn"]),
    (Col::Driver, &["driver", "drivername"]),
    (
        Col::Phone,
        &["phone", "driverphone", "mobile", "phonenumber"],
    ),
    (
        Col::EmployeeNo,
        &[
            "employeeno",
            "employeenumber",
            "staffno",
            "staffnumber",
            "payrollno",
        ],
    ),
    (
        Col::CostCentre,
        &["costcentre", "costcenter", "department", "dept"],
    ),
    (Col::City, &["city", "assignedcity", "base", "branch"]),
    (Col::Country, &["country", "countrycode"]),
];

fn key(h: &str) -> String {
    h.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Splits `text` into records of fields (RFC 4180), with the line each record starts on.
fn records(text: &str, sep: char) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let (mut field, mut fields) = (String::new(), Vec::new());
    let (mut quoted, mut line, mut start) = (false, 1usize, 1usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            '\n' if !quoted => {
                fields.push(std::mem::take(&mut field));
                out.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            c if c == sep && !quoted => fields.push(std::mem::take(&mut field)),
            c => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push((start, fields));
    }
    out.retain(|(_, f)| f.iter().any(|x| !x.trim().is_empty()));
    out
}

/// Why a registry file as a whole cannot be read (a bad line is a [`LineError`] instead).
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the file is not UTF-8 text ({0}); save it from the spreadsheet as \"CSV UTF-8\"")]
    NotUtf8(std::str::Utf8Error),
    #[error("the file is empty; expected a header line such as imei,account,plate,driver,phone")]
    Empty,
    #[error("the header names the {0:?} column twice")]
    ColumnTwice(String),
    #[error(
        "the header has no IMEI column (found: {0}); the first line must name the columns, e.g. imei,account,plate,driver,phone"
    )]
    NoImeiColumn(String),
}

/// Reads a registry file. `default_account` is used for rows without an account column or cell.
pub fn parse(bytes: &[u8], default_account: Option<&str>) -> Result<Parsed, RegistryError> {
    let text = std::str::from_utf8(bytes).map_err(RegistryError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let sep = [',', ';', '\t']
        .into_iter()
        .max_by_key(|s| first.matches(*s).count())
        .unwrap_or(',');
    let mut recs = records(text, sep).into_iter();
    let Some((_, header)) = recs.next() else {
        return Err(RegistryError::Empty);
    };
    let mut cols: Vec<Option<Col>> = Vec::new();
    let mut ignored = Vec::new();
    for h in &header {
        let k = key(h);
        let col = ALIASES
            .iter()
            .find(|(_, names)| names.contains(&k.as_str()))
            .map(|(c, _)| *c);
        if col.is_some() && cols.contains(&col) {
            return Err(RegistryError::ColumnTwice(h.clone()));
        }
        if col.is_none() && !h.trim().is_empty() {
            ignored.push(h.trim().to_string());
        }
        cols.push(col);
    }
    if !cols.contains(&Some(Col::Imei)) {
        return Err(RegistryError::NoImeiColumn(header.join(", ")));
    }
    let mut parsed = Parsed {
        ignored_columns: ignored,
        ..Parsed::default()
    };
    for (line, fields) in recs {
        let mut row = Row {
            line,
            ..Row::default()
        };
        for (i, value) in fields.iter().enumerate() {
            let v = value.trim();
            let v = (!v.is_empty()).then(|| v.to_string());
            match cols.get(i).copied().flatten() {
                Some(Col::Imei) => row.imei = v.unwrap_or_default(),
                Some(Col::Account) => row.account = v,
                Some(Col::Plate) => row.plate = v,
                Some(Col::VehicleName) => row.vehicle_name = v,
                Some(Col::Make) => row.make = v,
                Some(Col::VehicleModel) => row.vehicle_model = v,
                Some(Col::Model) => row.model = v,
                Some(Col::Sim) => row.sim = v,
                Some(Col::Driver) => row.driver_name = v,
                Some(Col::Phone) => row.driver_phone = v,
                Some(Col::EmployeeNo) => row.employee_no = v,
                Some(Col::CostCentre) => row.cost_centre = v,
                Some(Col::City) => row.city = v,
                Some(Col::Country) => row.country = v.map(|c| c.to_ascii_uppercase()),
                None => {}
            }
        }
        if row.account.is_none() {
            row.account = default_account.map(str::to_string);
        }
        match check(&row) {
            Ok(()) => parsed.rows.push(row),
            Err(BadLine(error)) => parsed.errors.push(LineError { line, error }),
        }
    }
    Ok(parsed)
}

/// What is wrong with one line (it becomes the line's [`LineError`]).
struct BadLine(String);

impl From<String> for BadLine {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for BadLine {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

fn check(row: &Row) -> Result<(), BadLine> {
    let imei = &row.imei;
    if imei.is_empty() {
        return Err("the IMEI is empty".into());
    }
    if imei.contains(['E', 'e']) && imei.contains('+') {
        return Err(format!(
            "IMEI {imei:?} looks like a number a spreadsheet shortened (scientific notation); format the column as text and export again"
        ).into());
    }
    if !(6..=20).contains(&imei.len()) || !imei.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("IMEI {imei:?} is not 6-20 letters or digits").into());
    }
    if row.account.is_none() {
        return Err("no account: add an account column or pass --account".into());
    }
    if row
        .plate
        .as_deref()
        .is_some_and(|p| !p.chars().any(|c| c.is_ascii_alphanumeric()))
    {
        return Err(format!(
            "plate {:?} has no letters or digits",
            row.plate.as_deref().unwrap_or("")
        )
        .into());
    }
    if let Some(c) = &row.country
        && !(c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase()))
    {
        return Err(format!("country {c:?} must be a two-letter code such as KE or UG").into());
    }
    if row.city.is_some() && row.plate.is_none() {
        return Err("a city is given but no plate: the city belongs to a vehicle".into());
    }
    if (row.driver_phone.is_some() || row.employee_no.is_some()) && row.driver_name.is_none() {
        return Err("a driver phone or employee number is given but no driver name".into());
    }
    if row.driver_name.is_some() && row.plate.is_none() {
        return Err("a driver is given but no plate: drivers are assigned to vehicles".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_any_spelling_and_quoted_fields() {
        let csv = "\u{feff}IMEI;Number Plate;Driver Name;Phone;Department;City;Remarks\r\n\
                   862798050000001;\"KCA 542Q\";\"Otieno, John\";+254700000001;Sales;Nairobi;spare\r\n\
                   \r\n\
                   862798050000002;kbz-001a;;;;;\"said \"\"hi\"\"\"\r\n";
        let p = parse(csv.as_bytes(), Some("fireside")).expect("parsed");
        assert_eq!(p.errors, vec![]);
        assert_eq!(p.ignored_columns, vec!["Remarks".to_string()]);
        assert_eq!(p.rows.len(), 2);
        let r = &p.rows[0];
        assert_eq!(
            (
                r.line,
                r.imei.as_str(),
                r.plate.as_deref(),
                r.driver_name.as_deref(),
                r.cost_centre.as_deref()
            ),
            (
                2,
                "862798050000001",
                Some("KCA 542Q"),
                Some("Otieno, John"),
                Some("Sales")
            )
        );
        assert_eq!(
            r.account.as_deref(),
            Some("fireside"),
            "the default account fills in"
        );
        assert_eq!(
            (p.rows[1].line, p.rows[1].driver_name.clone()),
            (4, None),
            "blank lines keep line numbers"
        );
    }

    #[test]
    fn bad_lines_are_kept_with_a_reason_and_good_ones_survive() {
        let csv = "imei,account,plate,driver,phone,country\n\
                   8.62798E+14,a,KCA 1,,,\n\
                   12345,a,KCA 2,,,\n\
                   862798050000003,,KCA 3,,,\n\
                   862798050000004,a,KCA 4,,+2547,\n\
                   862798050000005,a,KCA 5,Jane,,Kenya\n\
                   862798050000006,a,KCA 6,Jane,,ke\n";
        let p = parse(csv.as_bytes(), None).expect("parsed");
        let lines: Vec<(usize, &str)> = p
            .errors
            .iter()
            .map(|e| (e.line, e.error.as_str()))
            .collect();
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert!(lines[0].1.contains("scientific notation"));
        assert!(lines[1].1.contains("6-20"));
        assert!(lines[2].1.contains("--account"));
        assert!(lines[3].1.contains("no driver name"));
        assert!(lines[4].1.contains("two-letter"));
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].country.as_deref(), Some("KE"));
    }

    #[test]
    fn files_that_cannot_be_a_registry_say_why() {
        assert!(
            parse(b"", None)
                .expect_err("empty")
                .to_string()
                .contains("empty")
        );
        assert!(
            parse(b"plate,driver\nKCA 1,Jo\n", None)
                .expect_err("no imei")
                .to_string()
                .contains("no IMEI column")
        );
        assert!(
            parse(b"imei,IMEI\n1,2\n", None)
                .expect_err("twice")
                .to_string()
                .contains("twice")
        );
        assert!(
            parse(&[0xff, 0xfe, 0x00], None)
                .expect_err("binary")
                .to_string()
                .contains("UTF-8")
        );
    }

    #[test]
    fn a_quoted_field_may_span_lines() {
        let p = parse(b"imei,account,vehicle name\n862798050000001,a,\"Pick-up\nwhite\"\n862798050000002,a,Van\n", None)
            .expect("parsed");
        assert_eq!(p.rows[0].vehicle_name.as_deref(), Some("Pick-up\nwhite"));
        assert_eq!(p.rows[1].line, 4);
    }
}
