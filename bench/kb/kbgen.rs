//! A deterministic generator of realistic IT knowledge-base articles for
//! benchmarks: titles and Markdown bodies assembled from the kinds of
//! things service desks write about (products, symptoms, error codes,
//! sites, steps), with a long tail of rare terms like real content has.

/// SplitMix64: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Skewed towards the start of the list (popular products come up more).
    pub fn pick_skewed<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        let a = self.below(xs.len());
        let b = self.below(xs.len());
        &xs[a.min(b)]
    }
}

const PRODUCTS: &[&str] = &[
    "Outlook",
    "Teams",
    "OneDrive",
    "SharePoint",
    "VPN client",
    "GlobalProtect",
    "Wi-Fi",
    "printer",
    "laptop",
    "docking station",
    "monitor",
    "Excel",
    "Word",
    "PowerPoint",
    "Zoom",
    "Chrome",
    "Edge",
    "Firefox",
    "Company Portal",
    "Authenticator app",
    "Bitwarden",
    "Adobe Acrobat",
    "Visio",
    "SAP GUI",
    "Salesforce",
    "Jira",
    "Confluence",
    "Slack",
    "Webex",
    "desk phone",
    "headset",
    "webcam",
    "keyboard",
    "mouse",
    "iPhone",
    "Android phone",
    "iPad",
    "MacBook",
    "Windows 11",
    "macOS",
    "BitLocker",
    "Remote Desktop",
    "Citrix Workspace",
    "S: drive",
    "scanner",
    "badge reader",
    "meeting room display",
    "Power BI",
    "Tableau",
    "ServiceNow",
    "Workday",
    "Concur",
    "DocuSign",
    "Dropbox",
    "Box",
    "Notepad++",
    "Python",
    "Visual Studio Code",
    "Git",
    "Docker Desktop",
    "Okta",
    "Duo",
];

const PROBLEMS: &[&str] = &[
    "will not start",
    "keeps crashing",
    "is very slow",
    "asks for the password again and again",
    "shows an error",
    "cannot connect",
    "is not syncing",
    "freezes",
    "has no sound",
    "shows as offline",
    "cannot sign in",
    "is missing",
    "was updated and looks different",
    "will not install",
    "keeps disconnecting",
    "cannot find the server",
    "prints blank pages",
    "shows a certificate warning",
    "runs out of space",
    "does not show shared calendars",
    "cannot open attachments",
    "is blocked by the firewall",
    "drains the battery",
];

const ACTIONS: &[&str] = &[
    "Set up",
    "Install",
    "Configure",
    "Reset",
    "Fix",
    "Troubleshoot",
    "Update",
    "Remove",
    "Request access to",
    "Move",
    "Back up",
    "Restore",
    "Share",
    "Connect",
    "Uninstall",
    "Enable",
    "Disable",
    "Renew",
];

const CONTEXTS: &[&str] = &[
    "from home",
    "in the office",
    "on a new laptop",
    "after a password change",
    "while travelling",
    "on a personal device",
    "for a new starter",
    "for a shared team account",
    "after the latest update",
    "on the guest network",
    "in a meeting room",
    "for external partners",
    "on Windows 11",
    "on macOS",
];

const SITES: &[&str] = &[
    "London",
    "Berlin",
    "Paris",
    "Madrid",
    "Amsterdam",
    "Dublin",
    "Warsaw",
    "Lisbon",
    "Stockholm",
    "Munich",
    "New York",
    "Toronto",
    "Singapore",
    "Sydney",
    "Tokyo",
    "Austin",
    "Chicago",
    "Zurich",
    "Vienna",
    "Prague",
];

const TEAMS: &[&str] = &[
    "Finance",
    "HR",
    "Sales",
    "Marketing",
    "Legal",
    "Engineering",
    "Support",
    "Facilities",
    "Procurement",
    "Operations",
    "Research",
    "Design",
    "Security",
    "Payroll",
    "Customer Success",
];

const CATEGORIES: &[&str] = &[
    "Accounts and passwords",
    "Network and VPN",
    "E-mail and calendar",
    "Devices",
    "Printing",
    "Software",
    "Collaboration",
    "Files and storage",
    "Security",
    "Getting started",
];

const STEP_VERBS: &[&str] = &[
    "Open",
    "Close",
    "Restart",
    "Sign out of",
    "Sign in to",
    "Update",
    "Reinstall",
    "Check the settings of",
    "Clear the cache of",
    "Disconnect",
    "Reconnect",
    "Check for updates in",
    "Remove and add again",
];

const SENTENCES: &[&str] = &[
    "This usually happens after a recent change to your account or device.",
    "Most people can fix this themselves in a few minutes.",
    "If several colleagues are affected, check the Status page before reporting it.",
    "Company laptops receive the fix automatically within a day.",
    "Keep the laptop plugged in and connected to the network while this runs.",
    "You may need to restart once or twice before everything works again.",
    "Personal devices are supported on a best-effort basis only.",
    "Write down the exact error message; it helps the service desk a lot.",
    "The change applies to every office and to remote workers.",
    "Your files and settings are not affected.",
    "Approvals from your manager are needed for licensed products.",
    "Contractors need a sponsor to request this on their behalf.",
];

fn error_code(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("0x{:08X}", r.next() as u32),
        1 => format!("ERR-{}", 1000 + r.below(9000)),
        2 => format!("CAA{}", 20000 + r.below(80000)),
        _ => format!("{}.{}.{}", 1 + r.below(30), r.below(10), r.below(200)),
    }
}

/// A generated article.
pub struct GenArticle {
    pub title: String,
    pub category: String,
    pub tags: Vec<String>,
    pub body: String,
}

/// Article number `i` (0-based) of the benchmark knowledge base.
pub fn article(seed: u64, i: u64) -> GenArticle {
    let mut r = Rng::new(seed ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let product = *r.pick_skewed(PRODUCTS);
    let site = *r.pick(SITES);
    let team = *r.pick(TEAMS);
    let code = error_code(&mut r);
    let title = match r.below(4) {
        0 => format!("{} {} {}", r.pick(ACTIONS), product, r.pick(CONTEXTS)),
        1 => format!("{} {}", product, r.pick(PROBLEMS)),
        2 => format!("{} {} for the {} team in {}", r.pick(ACTIONS), product, team, site),
        _ => format!("{} {}: error {}", product, r.pick(PROBLEMS), code),
    };
    let mut body = String::with_capacity(1600);
    body.push_str(&format!(
        "Symptoms: {} {} for people in the {} office. You may see the message *{}* (code `{}`).\n\n",
        product,
        r.pick(PROBLEMS),
        site,
        r.pick(PROBLEMS),
        code
    ));
    for _ in 0..1 + r.below(2) {
        let sentence = SENTENCES[r.below(SENTENCES.len())];
        body.push_str(sentence);
        body.push(' ');
    }
    body.push_str("\n\n## What to do\n\n");
    for n in 1..=3 + r.below(4) {
        let other = *r.pick_skewed(PRODUCTS);
        body.push_str(&format!("{n}. {} {}", r.pick(STEP_VERBS), other));
        if r.below(3) == 0 {
            body.push_str(&format!(" and {} {}", r.pick(STEP_VERBS).to_lowercase(), product));
        }
        body.push_str(".\n");
    }
    body.push('\n');
    for _ in 0..1 + r.below(3) {
        let sentence = SENTENCES[r.below(SENTENCES.len())];
        body.push_str(sentence);
        body.push(' ');
    }
    body.push_str(&format!(
        "\n\nStill not working? Submit a request for the {} team and mention {} and the code `{}`.\n",
        team, product, code
    ));
    let mut tags = vec![product.to_lowercase()];
    if r.below(2) == 0 {
        tags.push(site.to_lowercase());
    }
    GenArticle { title, category: (*r.pick(CATEGORIES)).to_owned(), tags, body }
}

/// Queries for the benchmark: what people type, from one word to a sentence.
pub const QUERIES: &[&str] = &[
    "outlook",
    "vpn",
    "wifi",
    "pasword",
    "reset password",
    "printer offline",
    "teams no sound",
    "onedrive not syncing",
    "laptop slow",
    "new starter",
    "install adobe acrobat",
    "bitlocker recovery key",
    "cannot connect to vpn from home",
    "outlok crashing",
    "certificate warning",
    "shared calendars",
    "docking station monitor",
    "sap gui error",
    "jira access",
    "can't get on the internet at the office",
    "wireless",
    "mfa new phone",
    "zoom",
    "excel freezes",
    "s drive missing",
    "ERR-4521",
    "keyboard",
    "remote desktop",
    "sign in problem",
    "meeting room display",
    "battery drains",
    "print blank pages",
];
