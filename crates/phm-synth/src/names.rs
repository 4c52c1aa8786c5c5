//! Synthetic names and addresses. Lists are short, common and mixed by broad ethnic group so
//! that linkage and identity screens look plausible; no real person is described.

use phm_core::ethnicity::{EthnicCategory, EthnicGroup5};
use rand::Rng;

use crate::model::Sex;

const FAMILY_WHITE: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson",
    "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Murphy", "Kowalski", "Nowak",
    "Popescu", "Harris", "Lewis", "Turner", "Cooper", "Hill", "Ward",
];
const FAMILY_SOUTH_ASIAN: &[&str] = &[
    "Khan", "Hussain", "Ahmed", "Ali", "Patel", "Begum", "Iqbal", "Akhtar", "Rahman", "Miah", "Shah", "Singh", "Kaur",
    "Mahmood", "Butt", "Chaudhry", "Islam", "Uddin", "Sharma", "Malik",
];
const FAMILY_BLACK: &[&str] = &[
    "Okafor", "Mensah", "Adeyemi", "Campbell", "Williams", "Brown", "Osei", "Asante", "Mohamed", "Nwosu", "Thomas",
    "Francis", "Boateng", "Yusuf", "Clarke", "Bello", "Grant", "Reid", "Abdi", "Owusu",
];
const FAMILY_OTHER: &[&str] = &[
    "Chen",
    "Wang",
    "Li",
    "Nguyen",
    "Kim",
    "Silva",
    "Santos",
    "Haddad",
    "Rossi",
    "Costa",
    "Ahmadi",
    "Hassan",
    "Yilmaz",
    "Fernandes",
    "Zhang",
];
const GIVEN_FEMALE: &[&str] = &[
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Sophia", "Grace", "Lily", "Emily", "Ella", "Sarah", "Emma", "Claire",
    "Helen", "Susan", "Margaret", "Patricia", "Joan", "Jean", "Karen", "Fatima", "Aisha", "Maryam", "Zara", "Amira",
    "Priya", "Noor", "Khadija", "Ayesha", "Sana", "Grace", "Blessing", "Abena", "Chloe", "Ruth", "Mei", "Ana", "Maria",
    "Zofia", "Elena",
];
const GIVEN_MALE: &[&str] = &[
    "Oliver", "George", "Noah", "Arthur", "Harry", "Leo", "Jack", "Charlie", "Oscar", "Thomas", "James", "John",
    "David", "Michael", "Peter", "Robert", "Paul", "Mark", "Andrew", "Richard", "Muhammad", "Ibrahim", "Yusuf", "Adam",
    "Omar", "Ali", "Hamza", "Zain", "Arjun", "Imran", "Daniel", "Samuel", "Kwame", "Emmanuel", "Joseph", "Wei",
    "Lucas", "Mateo", "Piotr", "Andrei",
];
const STREETS: &[&str] = &[
    "Park Road",
    "Church Street",
    "Station Road",
    "High Street",
    "Victoria Road",
    "Mill Lane",
    "London Road",
    "The Green",
    "Castle Street",
    "Queens Road",
    "Manor Road",
    "Kings Road",
    "Bridge Street",
    "Grove Road",
    "Orchard Way",
    "Meadow Lane",
    "Abbey Road",
    "Elm Avenue",
    "Priory Walk",
    "Chapel Lane",
    "School Lane",
    "Windmill Hill",
    "Beech Close",
    "Oak Drive",
];
const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXY";

fn pick<'a>(rng: &mut impl Rng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// A given and family name for someone of this sex and ethnicity.
pub fn name(rng: &mut impl Rng, sex: Sex, ethnicity: EthnicCategory) -> (String, String) {
    let family = match ethnicity.group5() {
        _ if ethnicity.is_south_asian() => pick(rng, FAMILY_SOUTH_ASIAN),
        EthnicGroup5::Black => pick(rng, FAMILY_BLACK),
        EthnicGroup5::Other | EthnicGroup5::Asian => pick(rng, FAMILY_OTHER),
        EthnicGroup5::White | EthnicGroup5::Mixed => pick(rng, FAMILY_WHITE),
    };
    let given = match sex {
        Sex::Female => pick(rng, GIVEN_FEMALE),
        Sex::Male => pick(rng, GIVEN_MALE),
    };
    (given.to_owned(), family.to_owned())
}

/// Unit postcodes per area.
pub const POSTCODES_PER_AREA: usize = 20;

/// The `unit`-th postcode of the area that is `area_in_district`-th in its postcode district.
/// Distinct areas never share a postcode, so a postcode identifies its area, as the ONS
/// postcode directory does for real LSOAs.
pub fn postcode(district: &str, area_in_district: usize, unit: usize) -> String {
    let n = area_in_district * POSTCODES_PER_AREA + unit;
    let per_sector = LETTERS.len() * LETTERS.len();
    let sector = n / per_sector + 1;
    let a = LETTERS[(n % per_sector) / LETTERS.len()] as char;
    let b = LETTERS[n % LETTERS.len()] as char;
    format!("{district} {sector}{a}{b}")
}

/// A street address line and one of the area's postcodes.
pub fn address(rng: &mut impl Rng, district: &str, area_in_district: usize) -> (String, String) {
    let line = format!("{} {}", rng.random_range(1..=180), pick(rng, STREETS));
    (line, postcode(district, area_in_district, rng.random_range(0..POSTCODES_PER_AREA)))
}
