//! The colours of newman's cli reporter (`--color on`, or `auto` on a terminal): ANSI
//! codes as its `colors` package writes them, or the text as it is when colour is off.

/// Paints text, or not.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paint {
    on: bool,
}

impl Paint {
    pub fn new(on: bool) -> Paint {
        Paint { on }
    }

    fn wrap(self, text: &str, open: &str, close: &str) -> String {
        if self.on {
            format!("{open}{text}{close}")
        } else {
            text.to_owned()
        }
    }

    /// Names (the collection, folders, items): reset to the terminal's own colour.
    pub fn reset(self, text: &str) -> String {
        self.wrap(text, "\x1b[0m", "\x1b[0m")
    }

    pub fn gray(self, text: &str) -> String {
        self.wrap(text, "\x1b[90m", "\x1b[39m")
    }

    pub fn green(self, text: &str) -> String {
        self.wrap(text, "\x1b[32m", "\x1b[39m")
    }

    pub fn red(self, text: &str) -> String {
        self.wrap(text, "\x1b[31m", "\x1b[39m")
    }

    pub fn cyan(self, text: &str) -> String {
        self.wrap(text, "\x1b[36m", "\x1b[39m")
    }

    /// Failed assertions and script errors.
    pub fn red_bold(self, text: &str) -> String {
        self.wrap(text, "\x1b[31m\x1b[1m", "\x1b[22m\x1b[39m")
    }

    /// The failure table's headings.
    pub fn red_underline(self, text: &str) -> String {
        self.wrap(text, "\x1b[31m\x1b[4m", "\x1b[24m\x1b[39m")
    }

    /// The `Iteration n/m` line.
    pub fn gray_underline(self, text: &str) -> String {
        self.wrap(text, "\x1b[90m\x1b[4m", "\x1b[24m\x1b[39m")
    }

    /// A console box's frame in its level's colour (newman's theme).
    pub fn level(self, level: &str, text: &str) -> String {
        match level {
            "info" => self.cyan(text),
            "warn" => self.wrap(text, "\x1b[33m", "\x1b[39m"),
            "debug" => self.wrap(text, "\x1b[34m", "\x1b[39m"),
            "error" => self.red(text),
            _ => self.gray(text),
        }
    }
}
