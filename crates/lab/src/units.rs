//! Units as people write them: step lengths ("1 min", "4 h", "1 d").

/// A step length for people: "1 min", "15 min", "1 h", "4 h", "1 d" (never "0.0166… h").
pub fn step_length(hours: f64) -> String {
    let minutes = hours * 60.0;
    if hours >= 24.0 && (hours / 24.0).fract() == 0.0 {
        format!("{} d", hours / 24.0)
    } else if hours >= 1.0 && hours.fract() == 0.0 {
        format!("{hours} h")
    } else if (minutes - libm::round(minutes)).abs() < 1e-6 {
        format!("{} min", libm::round(minutes))
    } else if minutes < 1.0 {
        format!("{:.0} s", minutes * 60.0)
    } else {
        format!("{hours:.3} h")
    }
}

#[cfg(test)]
mod tests {
    use super::step_length;

    #[test]
    fn step_lengths_read_as_people_write_them() {
        assert_eq!(step_length(1.0 / 60.0), "1 min");
        assert_eq!(step_length(0.25), "15 min");
        assert_eq!(step_length(1.0), "1 h");
        assert_eq!(step_length(4.0), "4 h");
        assert_eq!(step_length(24.0), "1 d");
        assert_eq!(step_length(1.5), "90 min");
    }
}
