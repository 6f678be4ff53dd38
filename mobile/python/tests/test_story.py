"""The SDK from Python: a wallet (keys sealed in its file) receives a citizen card from a real
`dojang up`, shows it as a QR code, and an offline verifier built from the registry's bundle
accepts it; a wrong secret is refused with its code."""

import asyncio

import pytest


def test_a_card_is_received_and_accepted_offline(sdk, platform, tmp_path):
    async def story():
        wallet = await sdk.create_wallet(str(tmp_path / "w.db"), b"secret", None)
        offer = platform.offer("qualification")
        card = await wallet.receive(offer["uri"], offer["tx_code"])
        assert card.type_name_ko == "국가기술자격증"
        qr = await wallet.present_qr(card.id, ["holder_name", "certificate_number"])
        return card, qr

    card, qr = asyncio.run(story())
    assert [c.path[0] for c in qr.claims] == ["holder_name", "certificate_number"]
    verifier = sdk.OfflineVerifier(
        platform.get("/registry/bundle"), platform.get("/registry/trust-anchor"), "https://counter"
    )
    verdict = verifier.verify(qr.text)
    assert verdict.decision == sdk.Decision.ACCEPTED, verdict.reasons
    assert verdict.issuer_name_ko == "한국산업인력공단"
    labels = {c.path[0]: c.label_ko for c in verdict.claims}
    assert labels["certificate_number"] == "자격증 번호"
    assert "birthdate" not in labels

    junk = verifier.verify("DJ1:" + "A" * 40)
    assert junk.decision == sdk.Decision.REJECTED
    assert junk.reasons[0].code == "malformed_qr"
    assert junk.reasons[0].message_en.startswith("The QR code")


def test_a_wrong_secret_is_refused_with_its_code(sdk, tmp_path):
    path = str(tmp_path / "locked.db")
    asyncio.run(sdk.create_wallet(path, b"right", None))
    with pytest.raises(sdk.DojangError.WrongSecret) as refused:
        asyncio.run(sdk.open_wallet(path, b"wrong", None))
    assert refused.value.code == "wrong_secret"


def test_a_bundle_that_does_not_verify_is_refused(sdk, platform):
    anchor = platform.get("/registry/trust-anchor")
    with pytest.raises(sdk.DojangError.InvalidInput) as refused:
        sdk.OfflineVerifier(b"not a bundle", anchor, "https://counter")
    assert refused.value.code == "bundle_invalid"
