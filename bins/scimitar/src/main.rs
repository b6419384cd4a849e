//! The `scimitar` server binary (under construction).

fn main() {
    eprintln!("scimitar: the server arrives with issue 6");
}
