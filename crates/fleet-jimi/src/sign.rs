//! Open API request signing (jimi-api.md §1): all parameters but `sign`, empty values dropped,
//! sorted by name, concatenated as name+value, wrapped in the app secret, MD5, upper-case hex.

use md5::{Digest, Md5};

/// The signature of `params` (pairs in any order; `sign` and empty values are ignored).
pub fn sign<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, secret: &str) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(k, v)| *k != "sign" && !v.is_empty())
        .collect();
    sorted.sort_unstable();
    let mut h = Md5::new();
    h.update(secret.as_bytes());
    for (k, v) in sorted {
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    h.update(secret.as_bytes());
    hex::encode_upper(h.finalize())
}

/// Lower-case hex MD5 of a password, as `user_pwd_md5` wants it.
pub fn password_md5(password: &str) -> String {
    hex::encode(Md5::digest(password.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_test_vector_verifies() {
        let params = [
            ("app_key", "TESTKEY"),
            ("expires_in", "7200"),
            ("format", "json"),
            ("method", "jimi.oauth.token.get"),
            ("sign_method", "md5"),
            ("timestamp", "2024-01-01 00:00:00"),
            ("user_id", "demo"),
            ("user_pwd_md5", "5f4dcc3b5aa765d61d8327deb882cf99"),
            ("v", "1.0"),
        ];
        assert_eq!(
            sign(params, "TESTSECRET"),
            "A697BCDEEBC213DE20BE0C4873B2C2EB"
        );
        // Order, an existing sign and empty values do not change it.
        let mut shuffled: Vec<(&str, &str)> = params.iter().rev().copied().collect();
        shuffled.push(("sign", "WHATEVER"));
        shuffled.push(("map_type", ""));
        assert_eq!(
            sign(shuffled, "TESTSECRET"),
            "A697BCDEEBC213DE20BE0C4873B2C2EB"
        );
        assert_eq!(password_md5("password"), "5f4dcc3b5aa765d61d8327deb882cf99");
    }
}
