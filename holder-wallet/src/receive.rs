//! The OpenID4VCI client: the pre-authorized code flow, from an offer to stored credentials.
