//! Postman's faker-style dynamic variables (`{{$randomFirstName}}`, `{{$randomEmail}}`,
//! ...): the names and shapes of postman-collection's `dynamic-variables.js`, generated with
//! the `fake` crate where it has the same kind of value and from short lists where it does
//! not (hacker words, products, databases, image URLs, locales, directories). Values are
//! test data, not secrets.

use std::fmt::Write;

use fake::faker::{
    address::en as address, company::en as company, currency::en as currency,
    filesystem::en as files, finance::en as finance, internet::en as internet, job::en as job,
    lorem::en as lorem, name::en as name,
};
use fake::Fake;

/// Generates one value of a dynamic variable, named by its [`Kind`].
macro_rules! kinds {
    ($($variant:ident = $name:literal,)*) => {
        /// A Postman faker variable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Kind {
            $($variant,)*
        }

        impl Kind {
            /// The kind named `name` (with its `$`), if Postman has one.
            pub fn parse(name: &str) -> Option<Kind> {
                match name {
                    $($name => Some(Kind::$variant),)*
                    _ => None,
                }
            }

            /// Every kind, with its name.
            pub const ALL: &'static [(&'static str, Kind)] = &[$(($name, Kind::$variant),)*];
        }
    };
}

kinds! {
    AlphaNumeric = "$randomAlphaNumeric",
    Boolean = "$randomBoolean",
    Color = "$randomColor",
    HexColor = "$randomHexColor",
    Abbreviation = "$randomAbbreviation",
    Ip = "$randomIP",
    Ipv6 = "$randomIPV6",
    MacAddress = "$randomMACAddress",
    Password = "$randomPassword",
    Locale = "$randomLocale",
    UserAgent = "$randomUserAgent",
    Protocol = "$randomProtocol",
    Semver = "$randomSemver",
    FirstName = "$randomFirstName",
    LastName = "$randomLastName",
    FullName = "$randomFullName",
    NamePrefix = "$randomNamePrefix",
    NameSuffix = "$randomNameSuffix",
    JobArea = "$randomJobArea",
    JobDescriptor = "$randomJobDescriptor",
    JobTitle = "$randomJobTitle",
    JobType = "$randomJobType",
    PhoneNumber = "$randomPhoneNumber",
    PhoneNumberExt = "$randomPhoneNumberExt",
    City = "$randomCity",
    StreetName = "$randomStreetName",
    StreetAddress = "$randomStreetAddress",
    Country = "$randomCountry",
    CountryCode = "$randomCountryCode",
    Latitude = "$randomLatitude",
    Longitude = "$randomLongitude",
    AvatarImage = "$randomAvatarImage",
    ImageUrl = "$randomImageUrl",
    AbstractImage = "$randomAbstractImage",
    AnimalsImage = "$randomAnimalsImage",
    BusinessImage = "$randomBusinessImage",
    CatsImage = "$randomCatsImage",
    CityImage = "$randomCityImage",
    FoodImage = "$randomFoodImage",
    NightlifeImage = "$randomNightlifeImage",
    FashionImage = "$randomFashionImage",
    PeopleImage = "$randomPeopleImage",
    NatureImage = "$randomNatureImage",
    SportsImage = "$randomSportsImage",
    TransportImage = "$randomTransportImage",
    ImageDataUri = "$randomImageDataUri",
    BankAccount = "$randomBankAccount",
    BankAccountName = "$randomBankAccountName",
    CreditCardMask = "$randomCreditCardMask",
    BankAccountBic = "$randomBankAccountBic",
    BankAccountIban = "$randomBankAccountIban",
    TransactionType = "$randomTransactionType",
    CurrencyCode = "$randomCurrencyCode",
    CurrencyName = "$randomCurrencyName",
    CurrencySymbol = "$randomCurrencySymbol",
    Bitcoin = "$randomBitcoin",
    CompanyName = "$randomCompanyName",
    CompanySuffix = "$randomCompanySuffix",
    Bs = "$randomBs",
    BsAdjective = "$randomBsAdjective",
    BsBuzz = "$randomBsBuzz",
    BsNoun = "$randomBsNoun",
    CatchPhrase = "$randomCatchPhrase",
    CatchPhraseAdjective = "$randomCatchPhraseAdjective",
    CatchPhraseDescriptor = "$randomCatchPhraseDescriptor",
    CatchPhraseNoun = "$randomCatchPhraseNoun",
    DatabaseColumn = "$randomDatabaseColumn",
    DatabaseType = "$randomDatabaseType",
    DatabaseCollation = "$randomDatabaseCollation",
    DatabaseEngine = "$randomDatabaseEngine",
    DatePast = "$randomDatePast",
    DateFuture = "$randomDateFuture",
    DateRecent = "$randomDateRecent",
    Weekday = "$randomWeekday",
    Month = "$randomMonth",
    DomainName = "$randomDomainName",
    DomainSuffix = "$randomDomainSuffix",
    DomainWord = "$randomDomainWord",
    Email = "$randomEmail",
    ExampleEmail = "$randomExampleEmail",
    UserName = "$randomUserName",
    Url = "$randomUrl",
    FileName = "$randomFileName",
    FileType = "$randomFileType",
    FileExt = "$randomFileExt",
    CommonFileName = "$randomCommonFileName",
    CommonFileType = "$randomCommonFileType",
    CommonFileExt = "$randomCommonFileExt",
    FilePath = "$randomFilePath",
    DirectoryPath = "$randomDirectoryPath",
    MimeType = "$randomMimeType",
    Price = "$randomPrice",
    Product = "$randomProduct",
    ProductAdjective = "$randomProductAdjective",
    ProductMaterial = "$randomProductMaterial",
    ProductName = "$randomProductName",
    Department = "$randomDepartment",
    Noun = "$randomNoun",
    Verb = "$randomVerb",
    Ingverb = "$randomIngverb",
    Adjective = "$randomAdjective",
    Word = "$randomWord",
    Words = "$randomWords",
    Phrase = "$randomPhrase",
    LoremWord = "$randomLoremWord",
    LoremWords = "$randomLoremWords",
    LoremSentence = "$randomLoremSentence",
    LoremSentences = "$randomLoremSentences",
    LoremParagraph = "$randomLoremParagraph",
    LoremParagraphs = "$randomLoremParagraphs",
    LoremText = "$randomLoremText",
    LoremSlug = "$randomLoremSlug",
    LoremLines = "$randomLoremLines",
}

const COLORS: &[&str] = &[
    "red",
    "green",
    "blue",
    "yellow",
    "purple",
    "mint green",
    "teal",
    "white",
    "black",
    "orange",
    "pink",
    "grey",
    "maroon",
    "violet",
    "turquoise",
    "tan",
    "sky blue",
    "salmon",
    "plum",
    "orchid",
    "olive",
    "magenta",
    "lime",
    "ivory",
    "indigo",
    "gold",
    "fuchsia",
    "cyan",
    "azure",
    "lavender",
    "silver",
];
const ABBREVIATIONS: &[&str] = &[
    "ADP", "AGP", "AI", "API", "ASCII", "CLI", "COM", "CSS", "DNS", "EXE", "FTP", "GB", "HDD",
    "HEX", "HTTP", "IB", "IP", "JBOD", "JSON", "OCR", "PCI", "PNG", "RAM", "RSS", "SAS", "SCSI",
    "SDD", "SMS", "SMTP", "SQL", "SSD", "SSL", "TCP", "THX", "TLS", "UDP", "USB", "UTF8", "VGA",
    "XML", "XSS",
];
const HACKER_ADJECTIVES: &[&str] = &[
    "auxiliary",
    "primary",
    "back-end",
    "digital",
    "open-source",
    "virtual",
    "cross-platform",
    "redundant",
    "online",
    "haptic",
    "multi-byte",
    "bluetooth",
    "wireless",
    "1080p",
    "neural",
    "optical",
    "solid state",
    "mobile",
];
const HACKER_NOUNS: &[&str] = &[
    "driver",
    "protocol",
    "bandwidth",
    "panel",
    "microchip",
    "program",
    "port",
    "card",
    "array",
    "interface",
    "system",
    "sensor",
    "firewall",
    "hard drive",
    "pixel",
    "alarm",
    "feed",
    "monitor",
    "application",
    "transmitter",
    "bus",
    "circuit",
    "capacitor",
    "matrix",
];
const HACKER_VERBS: &[&str] = &[
    "back up",
    "bypass",
    "hack",
    "override",
    "compress",
    "copy",
    "navigate",
    "index",
    "connect",
    "generate",
    "quantify",
    "calculate",
    "synthesize",
    "input",
    "transmit",
    "program",
    "reboot",
    "parse",
];
const HACKER_INGVERBS: &[&str] = &[
    "backing up",
    "bypassing",
    "hacking",
    "overriding",
    "compressing",
    "copying",
    "navigating",
    "indexing",
    "connecting",
    "generating",
    "quantifying",
    "calculating",
    "synthesizing",
    "transmitting",
    "programming",
    "parsing",
];
const PRODUCTS: &[&str] = &[
    "Chair", "Car", "Computer", "Keyboard", "Mouse", "Bike", "Ball", "Gloves", "Pants", "Shirt",
    "Table", "Shoes", "Hat", "Towels", "Soap", "Tuna", "Chicken", "Fish", "Cheese", "Bacon",
    "Pizza", "Salad", "Sausages", "Chips",
];
const PRODUCT_ADJECTIVES: &[&str] = &[
    "Small",
    "Ergonomic",
    "Rustic",
    "Intelligent",
    "Gorgeous",
    "Incredible",
    "Fantastic",
    "Practical",
    "Sleek",
    "Awesome",
    "Generic",
    "Handcrafted",
    "Handmade",
    "Licensed",
    "Refined",
    "Unbranded",
    "Tasty",
];
const PRODUCT_MATERIALS: &[&str] = &[
    "Steel", "Wooden", "Concrete", "Plastic", "Cotton", "Granite", "Rubber", "Metal", "Soft",
    "Fresh", "Frozen",
];
const DEPARTMENTS: &[&str] = &[
    "Books",
    "Movies",
    "Music",
    "Games",
    "Electronics",
    "Computers",
    "Home",
    "Garden",
    "Tools",
    "Grocery",
    "Health",
    "Beauty",
    "Toys",
    "Kids",
    "Baby",
    "Clothing",
    "Shoes",
    "Jewelery",
    "Sports",
    "Outdoors",
    "Automotive",
    "Industrial",
];
const CATCH_ADJECTIVES: &[&str] = &[
    "Adaptive",
    "Advanced",
    "Automated",
    "Balanced",
    "Cloned",
    "Configurable",
    "Customizable",
    "Decentralized",
    "Distributed",
    "Enhanced",
    "Ergonomic",
    "Focused",
    "Front-line",
    "Fundamental",
    "Horizontal",
    "Innovative",
    "Integrated",
    "Managed",
    "Multi-layered",
    "Open-source",
    "Optimized",
    "Proactive",
    "Reactive",
    "Robust",
    "Seamless",
    "Secured",
    "Streamlined",
    "Synergized",
    "Universal",
    "Virtual",
];
const CATCH_DESCRIPTORS: &[&str] = &[
    "24 hour",
    "24/7",
    "3rd generation",
    "4th generation",
    "asymmetric",
    "bi-directional",
    "client-driven",
    "client-server",
    "coherent",
    "composite",
    "context-sensitive",
    "dedicated",
    "dynamic",
    "executive",
    "global",
    "heuristic",
    "holistic",
    "interactive",
    "local",
    "logistical",
    "mission-critical",
    "modular",
    "multimedia",
    "national",
    "optimizing",
    "real-time",
    "secondary",
    "systematic",
    "transitional",
    "zero defect",
];
const CATCH_NOUNS: &[&str] = &[
    "ability",
    "access",
    "adapter",
    "algorithm",
    "alliance",
    "analyzer",
    "application",
    "approach",
    "architecture",
    "archive",
    "array",
    "attitude",
    "benchmark",
    "capability",
    "challenge",
    "circuit",
    "collaboration",
    "complexity",
    "concept",
    "database",
    "encoding",
    "extranet",
    "firmware",
    "framework",
    "groupware",
    "hierarchy",
    "infrastructure",
    "initiative",
    "interface",
    "knowledge base",
    "matrix",
    "methodology",
    "middleware",
    "model",
    "moderator",
    "monitoring",
    "neural-net",
    "paradigm",
    "policy",
    "portal",
    "productivity",
    "protocol",
    "service-desk",
    "software",
    "solution",
    "strategy",
    "superstructure",
    "throughput",
    "toolset",
    "utilisation",
    "website",
    "workforce",
];
const DB_COLUMNS: &[&str] = &[
    "id",
    "title",
    "name",
    "email",
    "phone",
    "token",
    "group",
    "category",
    "password",
    "comment",
    "avatar",
    "status",
    "createdAt",
    "updatedAt",
];
const DB_TYPES: &[&str] = &[
    "int",
    "varchar",
    "text",
    "date",
    "datetime",
    "tinyint",
    "time",
    "timestamp",
    "smallint",
    "mediumint",
    "bigint",
    "decimal",
    "float",
    "double",
    "real",
    "bit",
    "boolean",
    "serial",
    "blob",
    "binary",
    "enum",
    "set",
    "geometry",
    "point",
];
const DB_COLLATIONS: &[&str] = &[
    "utf8_unicode_ci",
    "utf8_general_ci",
    "utf8_bin",
    "ascii_bin",
    "ascii_general_ci",
    "cp1250_bin",
    "cp1250_general_ci",
];
const DB_ENGINES: &[&str] = &["InnoDB", "MyISAM", "MEMORY", "CSV", "BLACKHOLE", "ARCHIVE"];
const ACCOUNT_NAMES: &[&str] = &[
    "Checking",
    "Savings",
    "Money Market",
    "Investment",
    "Home Loan",
    "Credit Card",
    "Auto Loan",
    "Personal Loan",
];
const TRANSACTION_TYPES: &[&str] = &["deposit", "withdrawal", "payment", "invoice"];
const COMMON_FILE_TYPES: &[&str] = &["video", "audio", "image", "text", "application"];
const COMMON_FILE_EXTS: &[&str] = &[
    "pdf", "mpeg", "wav", "png", "jpeg", "gif", "mp4", "mp2", "m1v", "html", "txt",
];
const WEEKDAYS: &[&str] = &[
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LOCALES: &[&str] = &[
    "af", "am", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "eo",
    "es", "et", "eu", "fa", "fi", "fil", "fr", "ga", "gl", "gu", "ha", "he", "hi", "hr", "hu",
    "hy", "id", "ig", "is", "it", "ja", "ka", "kk", "km", "kn", "ko", "ku", "ky", "la", "lb", "lo",
    "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "nb", "ne", "nl", "nn", "no",
    "ny", "pa", "pl", "ps", "pt", "ro", "ru", "sd", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr",
    "st", "su", "sv", "sw", "ta", "te", "tg", "th", "tr", "uk", "ur", "uz", "vi", "xh", "yi", "yo",
    "zh", "zu",
];
const DIRECTORIES: &[&str] = &[
    "/Applications",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/etc/mail",
    "/home",
    "/home/user",
    "/lib",
    "/Library",
    "/media",
    "/mnt",
    "/net",
    "/opt",
    "/opt/bin",
    "/opt/lib",
    "/private",
    "/private/tmp",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/System",
    "/tmp",
    "/Users",
    "/usr",
    "/usr/bin",
    "/usr/include",
    "/usr/lib",
    "/usr/local/bin",
    "/usr/local/src",
    "/usr/sbin",
    "/usr/share",
    "/usr/src",
    "/var",
    "/var/log",
    "/var/mail",
    "/var/spool",
    "/var/tmp",
];

fn pick(list: &[&'static str]) -> &'static str {
    list[(0..list.len()).fake::<usize>()]
}

fn number(low: u64, high: u64) -> u64 {
    (low..=high).fake()
}

fn digits(out: &mut String, count: usize) {
    for _ in 0..count {
        out.push(char::from(b'0' + number(0, 9) as u8));
    }
}

/// A US-style phone number, `###-###-####`.
fn phone(out: &mut String) {
    digits(out, 3);
    out.push('-');
    digits(out, 3);
    out.push('-');
    digits(out, 4);
}

/// A date `days` away from now (negative: in the past), as JavaScript's `Date.toString()`
/// prints it in UTC, which is how Postman renders faker's dates.
fn date(days_from_now: i64, out: &mut String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    let secs = (now + days_from_now * 86_400 + number(0, 86_399) as i64).max(0) as u64;
    let days = secs / 86_400;
    let (year, month, day) = crate::template::civil_from_days(days);
    let weekday = WEEKDAYS[((days + 4) % 7) as usize];
    let of_day = secs % 86_400;
    let _ = write!(
        out,
        "{} {} {day:02} {year} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        &weekday[..3],
        &MONTHS[(month - 1) as usize][..3],
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
}

fn image(category: &str, out: &mut String) {
    let _ = write!(out, "http://placeimg.com/640/480/{category}");
}

/// Appends one value of `kind`.
pub fn render(kind: Kind, out: &mut String) {
    let word = |out: &mut String| out.push_str(&lorem::Word().fake::<String>());
    match kind {
        Kind::AlphaNumeric => {
            let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
            out.push(char::from(alphabet[number(0, 35) as usize]));
        }
        Kind::Boolean => out.push_str(if number(0, 1) == 1 { "true" } else { "false" }),
        Kind::Color => out.push_str(pick(COLORS)),
        Kind::HexColor => {
            let _ = write!(out, "#{:06x}", number(0, 0xff_ffff));
        }
        Kind::Abbreviation => out.push_str(pick(ABBREVIATIONS)),
        Kind::Ip => out.push_str(&internet::IPv4().fake::<String>()),
        Kind::Ipv6 => out.push_str(&internet::IPv6().fake::<String>()),
        Kind::MacAddress => out.push_str(&internet::MACAddress().fake::<String>().to_lowercase()),
        Kind::Password => out.push_str(&internet::Password(15..16).fake::<String>()),
        Kind::Locale => out.push_str(pick(LOCALES)),
        Kind::UserAgent => out.push_str(&internet::UserAgent().fake::<String>()),
        Kind::Protocol => out.push_str(if number(0, 1) == 1 { "https" } else { "http" }),
        Kind::Semver => out.push_str(&files::Semver().fake::<String>()),
        Kind::FirstName => out.push_str(&name::FirstName().fake::<String>()),
        Kind::LastName => out.push_str(&name::LastName().fake::<String>()),
        Kind::FullName => out.push_str(&name::Name().fake::<String>()),
        Kind::NamePrefix => out.push_str(&name::Title().fake::<String>()),
        Kind::NameSuffix => out.push_str(&name::Suffix().fake::<String>()),
        Kind::JobArea => out.push_str(&job::Field().fake::<String>()),
        Kind::JobDescriptor => out.push_str(&job::Seniority().fake::<String>()),
        Kind::JobTitle => out.push_str(&job::Title().fake::<String>()),
        Kind::JobType => out.push_str(&job::Position().fake::<String>()),
        Kind::PhoneNumber => phone(out),
        Kind::PhoneNumberExt => {
            let _ = write!(out, "{}-", number(1, 99));
            phone(out);
        }
        Kind::City => out.push_str(&address::CityName().fake::<String>()),
        Kind::StreetName => out.push_str(&address::StreetName().fake::<String>()),
        Kind::StreetAddress => {
            let _ = write!(
                out,
                "{} {}",
                address::BuildingNumber().fake::<String>(),
                address::StreetName().fake::<String>()
            );
        }
        Kind::Country => out.push_str(&address::CountryName().fake::<String>()),
        Kind::CountryCode => out.push_str(&address::CountryCode().fake::<String>()),
        Kind::Latitude => out.push_str(&address::Latitude().fake::<String>()),
        Kind::Longitude => out.push_str(&address::Longitude().fake::<String>()),
        Kind::AvatarImage => {
            let _ = write!(
                out,
                "https://cdn.fakercloud.com/avatars/{}_128.jpg",
                internet::Username().fake::<String>()
            );
        }
        Kind::ImageUrl => out.push_str("http://placeimg.com/640/480"),
        Kind::AbstractImage => image("abstract", out),
        Kind::AnimalsImage => image("animals", out),
        Kind::BusinessImage => image("business", out),
        Kind::CatsImage => image("cats", out),
        Kind::CityImage => image("city", out),
        Kind::FoodImage => image("food", out),
        Kind::NightlifeImage => image("nightlife", out),
        Kind::FashionImage => image("fashion", out),
        Kind::PeopleImage => image("people", out),
        Kind::NatureImage => image("nature", out),
        Kind::SportsImage => image("sports", out),
        Kind::TransportImage => image("transport", out),
        Kind::ImageDataUri => out.push_str(
            "data:image/svg+xml;charset=UTF-8,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20version%3D%221.1%22%20width%3D%22640%22%20height%3D%22480%22%3E%3Crect%20width%3D%22100%25%22%20height%3D%22100%25%22%20fill%3D%22grey%22%2F%3E%3C%2Fsvg%3E",
        ),
        Kind::BankAccount => digits(out, 8),
        Kind::BankAccountName => {
            let _ = write!(out, "{} Account", pick(ACCOUNT_NAMES));
        }
        Kind::CreditCardMask => {
            out.push_str("...");
            digits(out, 4);
        }
        Kind::BankAccountBic => out.push_str(&finance::Bic().fake::<String>()),
        Kind::BankAccountIban => {
            let _ = write!(out, "{}", address::CountryCode().fake::<String>());
            digits(out, 22);
        }
        Kind::TransactionType => out.push_str(pick(TRANSACTION_TYPES)),
        Kind::CurrencyCode => out.push_str(&currency::CurrencyCode().fake::<String>()),
        Kind::CurrencyName => out.push_str(&currency::CurrencyName().fake::<String>()),
        Kind::CurrencySymbol => out.push_str(&currency::CurrencySymbol().fake::<String>()),
        Kind::Bitcoin => {
            let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
            out.push(if number(0, 1) == 1 { '1' } else { '3' });
            for _ in 0..number(25, 33) {
                out.push(char::from(alphabet[number(0, 57) as usize]));
            }
        }
        Kind::CompanyName => out.push_str(&company::CompanyName().fake::<String>()),
        Kind::CompanySuffix => out.push_str(&company::CompanySuffix().fake::<String>()),
        Kind::Bs => out.push_str(&company::Bs().fake::<String>()),
        Kind::BsAdjective => out.push_str(&company::BsAdj().fake::<String>()),
        Kind::BsBuzz => out.push_str(&company::BsVerb().fake::<String>()),
        Kind::BsNoun => out.push_str(&company::BsNoun().fake::<String>()),
        Kind::CatchPhrase => out.push_str(&company::CatchPhrase().fake::<String>()),
        Kind::CatchPhraseAdjective => out.push_str(pick(CATCH_ADJECTIVES)),
        Kind::CatchPhraseDescriptor => out.push_str(pick(CATCH_DESCRIPTORS)),
        Kind::CatchPhraseNoun => out.push_str(pick(CATCH_NOUNS)),
        Kind::DatabaseColumn => out.push_str(pick(DB_COLUMNS)),
        Kind::DatabaseType => out.push_str(pick(DB_TYPES)),
        Kind::DatabaseCollation => out.push_str(pick(DB_COLLATIONS)),
        Kind::DatabaseEngine => out.push_str(pick(DB_ENGINES)),
        Kind::DatePast => date(-(number(1, 365) as i64), out),
        Kind::DateFuture => date(number(1, 365) as i64, out),
        Kind::DateRecent => date(-1, out),
        Kind::Weekday => out.push_str(pick(WEEKDAYS)),
        Kind::Month => out.push_str(pick(MONTHS)),
        Kind::DomainName => {
            let _ = write!(
                out,
                "{}.{}",
                lorem::Word().fake::<String>(),
                internet::DomainSuffix().fake::<String>()
            );
        }
        Kind::DomainSuffix => out.push_str(&internet::DomainSuffix().fake::<String>()),
        Kind::DomainWord => word(out),
        Kind::Email => out.push_str(&internet::FreeEmail().fake::<String>()),
        Kind::ExampleEmail => out.push_str(&internet::SafeEmail().fake::<String>()),
        Kind::UserName => out.push_str(&internet::Username().fake::<String>()),
        Kind::Url => {
            let _ = write!(
                out,
                "https://{}.{}",
                lorem::Word().fake::<String>(),
                internet::DomainSuffix().fake::<String>()
            );
        }
        Kind::FileName | Kind::CommonFileName => out.push_str(&files::FileName().fake::<String>()),
        Kind::FileExt => out.push_str(&files::FileExtension().fake::<String>()),
        Kind::CommonFileExt => out.push_str(pick(COMMON_FILE_EXTS)),
        Kind::FileType | Kind::CommonFileType => out.push_str(pick(COMMON_FILE_TYPES)),
        Kind::FilePath => {
            let _ = write!(out, "{}/{}", pick(DIRECTORIES), files::FileName().fake::<String>());
        }
        Kind::DirectoryPath => out.push_str(pick(DIRECTORIES)),
        Kind::MimeType => out.push_str(&files::MimeType().fake::<String>()),
        Kind::Price => {
            let _ = write!(out, "{}.{:02}", number(100, 999), number(0, 99));
        }
        Kind::Product => out.push_str(pick(PRODUCTS)),
        Kind::ProductAdjective => out.push_str(pick(PRODUCT_ADJECTIVES)),
        Kind::ProductMaterial => out.push_str(pick(PRODUCT_MATERIALS)),
        Kind::ProductName => {
            let _ = write!(
                out,
                "{} {} {}",
                pick(PRODUCT_ADJECTIVES),
                pick(PRODUCT_MATERIALS),
                pick(PRODUCTS)
            );
        }
        Kind::Department => out.push_str(pick(DEPARTMENTS)),
        Kind::Noun => out.push_str(pick(HACKER_NOUNS)),
        Kind::Verb => out.push_str(pick(HACKER_VERBS)),
        Kind::Ingverb => out.push_str(pick(HACKER_INGVERBS)),
        Kind::Adjective => out.push_str(pick(HACKER_ADJECTIVES)),
        Kind::Phrase => {
            let _ = write!(
                out,
                "If we {} the {}, we can get to the {} {} through the {} {}!",
                pick(HACKER_VERBS),
                pick(HACKER_NOUNS),
                pick(ABBREVIATIONS),
                pick(HACKER_NOUNS),
                pick(HACKER_ADJECTIVES),
                pick(HACKER_NOUNS)
            );
        }
        Kind::Word | Kind::LoremWord => word(out),
        Kind::Words => out.push_str(&lorem::Words(2..6).fake::<Vec<String>>().join(" ")),
        Kind::LoremWords => out.push_str(&lorem::Words(3..4).fake::<Vec<String>>().join(" ")),
        Kind::LoremSentence => out.push_str(&lorem::Sentence(3..10).fake::<String>()),
        Kind::LoremSentences => {
            out.push_str(&lorem::Sentences(2..7).fake::<Vec<String>>().join(" "));
        }
        Kind::LoremParagraph => out.push_str(&lorem::Paragraph(3..6).fake::<String>()),
        Kind::LoremParagraphs => {
            out.push_str(&lorem::Paragraphs(3..4).fake::<Vec<String>>().join("\n \r"));
        }
        Kind::LoremText => out.push_str(&lorem::Sentences(1..4).fake::<Vec<String>>().join(" ")),
        Kind::LoremSlug => out.push_str(&lorem::Words(3..4).fake::<Vec<String>>().join("-")),
        Kind::LoremLines => {
            out.push_str(&lorem::Sentences(1..6).fake::<Vec<String>>().join("\n"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_renders_something_of_its_shape() {
        for (name, kind) in Kind::ALL {
            assert_eq!(Kind::parse(name), Some(*kind));
            let mut out = String::new();
            render(*kind, &mut out);
            assert!(!out.is_empty(), "{name} rendered nothing");
        }
        let mut email = String::new();
        render(Kind::Email, &mut email);
        assert!(email.contains('@'), "{email}");
        let mut phone = String::new();
        render(Kind::PhoneNumber, &mut phone);
        assert_eq!(phone.len(), 12, "{phone}");
        assert_eq!(Kind::parse("$randomNope"), None);
    }
}
