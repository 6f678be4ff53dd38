package kr.dojang.sdk

import java.io.File
import java.util.Base64
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * The SDK as a phone app uses it, against a real `dojang up`: a citizen's wallet with its keys
 * in a JCA vault receives a citizen card over OpenID4VCI and shows it as a QR code; a counter's
 * offline verifier, built from the registry's bundle, judges it; a revocation reaches the
 * counter as a bundle delta.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoryTest {
    private lateinit var platform: Platform
    private val counter = "https://counter.example"

    @BeforeAll
    fun start() {
        // The generated code checks the library's interface matches its own, once.
        uniffiEnsureInitialized()
        platform = Platform()
    }

    @AfterAll
    fun stop() = platform.close()

    private fun walletPath(name: String) = File(platform.dir, "$name.db").path

    private fun verifier() = OfflineVerifier(platform.bundle(), platform.anchor(), counter)

    /** A wallet holding a freshly received citizen card, and that card. */
    private suspend fun walletWithCard(name: String, vault: KeyVault?): Triple<DojangWallet, CredentialRecord, String> {
        val wallet = createWallet(walletPath(name), "secret-$name".toByteArray(), vault)
        val offer = platform.offer("citizen-card")
        val card = wallet.receive(offer.getString("uri"), offer.getString("tx_code"))
        return Triple(wallet, card, offer.getString("offer_id"))
    }

    @Test
    fun `a citizen card is received, accepted offline, revoked, and rejected after the delta`() = runBlocking {
        val vault = JcaKeyVault()
        val (wallet, card, offerId) = walletWithCard("story", vault)
        assertEquals("서울시민카드", card.typeNameKo)
        assertEquals("Seoul Citizen Card", card.typeNameEn)
        assertEquals("서울특별시", card.issuerKo)
        assertEquals("valid", card.status)
        val birth = card.claims.single { it.path == listOf("birthdate") }
        assertEquals("생년월일", birth.labelKo)
        assertEquals(ValueKind.DATE, birth.kind)
        assertTrue(birth.choosable)
        assertTrue(vault.signatures > 0, "the key proof was signed in the vault")
        assertEquals(listOf(card.id), wallet.list().map { it.id })

        // The vault's private keys are nowhere in the wallet's files.
        val files = platform.dir.listFiles()!!.filter { it.name.startsWith("story.db") }
        assertTrue(files.isNotEmpty())
        for (file in files) {
            val bytes = file.readBytes()
            for (secret in vault.privateKeyEncodings()) {
                val encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(secret).toByteArray()
                assertFalse(contains(bytes, secret), "a private key in ${file.name}")
                assertFalse(contains(bytes, encoded), "a private key (base64url) in ${file.name}")
            }
        }

        val qr = wallet.presentQr(card.id, listOf("name", "age_over_19"))
        assertTrue(qr.text.startsWith("DJ1:"))
        assertTrue(qr.png.size > 100 && qr.png.copyOfRange(1, 4).contentEquals("PNG".toByteArray()))
        assertEquals(listOf("name", "age_over_19"), qr.claims.map { it.path.first() })
        val counter = verifier()
        val verdict = counter.verify(qr.text)
        assertEquals(Decision.ACCEPTED, verdict.decision, verdict.reasons.toString())
        assertEquals("citizen-card", verdict.typeId)
        assertEquals("서울특별시", verdict.issuerNameKo)
        val shown = verdict.claims.associate { it.path.joinToString(".") to it.value }
        assertEquals("김민지 Kim Minji", shown["name"])
        assertEquals("true", shown["age_over_19"])
        assertFalse(shown.containsKey("birthdate"), "only what was chosen")
        assertEquals("성명", verdict.claims.first { it.path == listOf("name") }.labelKo)

        // The clerk revokes; the counter applies the registry's delta and rejects.
        val before = platform.bundle()
        val mobileIdsOnly = platform.bundle(types = "mobile-id")
        platform.cli("issuer", "revoke", "--issuer", "seoul", "--offer", offerId, "--reason", "lost")
        counter.applyDelta(platform.bundle(since = counter.freshness().checkpointSize.toLong()))
        val again = counter.verify(wallet.presentQr(card.id, listOf("name")).text)
        assertEquals(Decision.REJECTED, again.decision)
        val revoked = again.reasons.single { it.blocking }
        assertEquals("revoked", revoked.code)
        assertEquals("발급자가 이 자격증명을 폐지했습니다.", revoked.messageKo)
        assertEquals("revoked", wallet.refreshStatus(card.id))
        // A counter that asks the registry itself gets there too.
        val online = OfflineVerifier(before, platform.anchor(), "https://counter.example")
        assertEquals(Decision.ACCEPTED, online.verify(wallet.presentQr(card.id, listOf("name")).text).decision)
        online.refresh("${platform.base}/registry")
        assertEquals(Decision.REJECTED, online.verify(wallet.presentQr(card.id, listOf("name")).text).decision)
        val unreachable = assertThrows<DojangException.Network> { runBlocking { online.refresh("http://127.0.0.1:9/registry") } }
        assertEquals("registry_unavailable", unreachable.code)
        // A counter that checks only mobile IDs loads their bundle and refreshes with their delta:
        // Seoul's lists come in neither, so it cannot vouch for the card's status. Refreshed
        // without the types, the same bundle takes Seoul's republished list and sees the revocation.
        val name = wallet.presentQr(card.id, listOf("name")).text
        for (types in listOf(listOf("mobile-id"), null)) {
            val mobileIds = OfflineVerifier(mobileIdsOnly, platform.anchor(), "https://counter.example")
            assertEquals("status_unavailable", mobileIds.verify(name).reasons.single { it.blocking }.code)
            mobileIds.refresh("${platform.base}/registry", types)
            val reason = mobileIds.verify(name).reasons.single { it.blocking }.code
            assertEquals(if (types == null) "revoked" else "status_unavailable", reason)
        }
        val badTypes = assertThrows<DojangException.InvalidInput> {
            runBlocking { online.refresh("${platform.base}/registry", listOf("mobile-id,citizen-card")) }
        }
        assertEquals("types_invalid", badTypes.code)

        // A delta that does not extend what is held changes nothing.
        val refused = assertThrows<DojangException.InvalidInput> { counter.applyDelta("not a bundle".toByteArray()) }
        assertEquals("bundle_invalid", refused.code)
        assertEquals(Decision.REJECTED, counter.verify(wallet.presentQr(card.id, listOf("name")).text).decision)

        assertEquals(6, wallet.history(card.id).size)
        wallet.close()
    }

    @Test
    fun `a wrong secret opens nothing and changes nothing`() = runBlocking {
        val path = walletPath("locked")
        createWallet(path, "right".toByteArray(), null).close()
        val wrong = assertThrows<DojangException.WrongSecret> { runBlocking { openWallet(path, "wrong".toByteArray(), null) } }
        assertEquals("wrong_secret", wrong.code)
        assertTrue(wrong.messageKo.isNotEmpty() && wrong.messageEn.isNotEmpty())
        openWallet(path, "right".toByteArray(), null).use { assertEquals(0, it.list().size) }
    }

    @Test
    fun `a tampered QR code and an expired time window are rejected`() = runBlocking {
        val (wallet, card, _) = walletWithCard("tamper", JcaKeyVault())
        val text = wallet.presentQr(card.id, listOf("name")).text
        val counter = verifier()
        // One character of the base45 text changed: it no longer decodes or verifies.
        val i = text.length / 2
        val flipped = text.substring(0, i) + (if (text[i] == 'A') 'B' else 'A') + text.substring(i + 1)
        val tampered = counter.verify(flipped)
        assertEquals(Decision.REJECTED, tampered.decision)
        assertTrue(tampered.reasons.any { it.code in setOf("malformed_qr", "signature_invalid", "holder_binding_invalid", "disclosure_invalid") }, tampered.reasons.toString())
        // The same QR two hours later: outside its minute.
        val late = counter.verifyAt(text, System.currentTimeMillis() / 1000 + 7200)
        assertEquals(Decision.REJECTED, late.decision)
        assertTrue(late.reasons.any { it.code == "binding_expired" }, late.reasons.toString())
        wallet.close()
    }

    @Test
    fun `a challenge is answered once and a replay is refused`() = runBlocking {
        val (wallet, card, _) = walletWithCard("challenge", JcaKeyVault())
        val counter = verifier()
        val challenge = counter.newChallenge()
        assertTrue(challenge.text.startsWith("DJC1:"))
        val answer = wallet.answerChallenge(card.id, listOf("age_over_19"), challenge.text)
        assertEquals(null, answer.expiresAt)
        assertEquals(Decision.ACCEPTED, counter.verifyAnswer(answer.text, challenge.id).decision)
        val replay = counter.verifyAnswer(answer.text, challenge.id)
        assertEquals(Decision.REJECTED, replay.decision)
        assertEquals("challenge_mismatch", replay.reasons.single { it.blocking }.code)
        // Nor does another counter's challenge take it.
        val other = counter.newChallenge()
        assertEquals(Decision.REJECTED, counter.verifyAnswer(answer.text, other.id).decision)
        val none = assertThrows<DojangException.InvalidInput> { runBlocking { wallet.presentQr(card.id, emptyList()) } }
        assertEquals("nothing_selected", none.code)
        wallet.close()
    }

    @Test
    fun `an OpenID4VP request is previewed with exactly its claims, then answered`() = runBlocking {
        val (wallet, card, _) = walletWithCard("online", JcaKeyVault())
        val request = platform.openid4vpRequest("citizen-card", listOf("name", "age_over_19"))
        val preview = wallet.previewOpenid4vp(request.getString("uri"))
        val item = preview.credentials.single()
        assertEquals(card.id, item.credentialId)
        assertEquals(listOf("/name", "/age_over_19"), item.claims)
        assertEquals(listOf("성명", "만 19세 이상"), item.labelsKo)
        assertTrue(preview.verifier.contains("/verifier"), preview.verifier)
        wallet.answerOpenid4vp(request.getString("uri"))
        var result = platform.openid4vpResult(request.getString("state"))
        repeat(20) {
            if (result.getString("status") == "answered") return@repeat
            delay(100)
            result = platform.openid4vpResult(request.getString("state"))
        }
        assertEquals("answered", result.getString("status"))
        assertEquals("accepted", result.getJSONArray("verdicts").getJSONObject(0).getString("decision"))
        val wrong = assertThrows<DojangException.InvalidInput> { runBlocking { wallet.previewOpenid4vp("https://example.com/") } }
        assertEquals("not_a_request", wrong.code)
        wallet.close()
    }

    @Test
    fun `a backup restores into a new wallet and a changed secret is the only one that opens`() = runBlocking {
        val (wallet, card, _) = walletWithCard("backup", null)
        val backup = wallet.exportBackup("backup-pass".toByteArray())
        wallet.changeSecret("new-secret".toByteArray())
        wallet.close()
        assertThrows<DojangException.WrongSecret> { runBlocking { openWallet(walletPath("backup"), "secret-backup".toByteArray(), null) } }
        openWallet(walletPath("backup"), "new-secret".toByteArray(), null).close()
        val restored = createWallet(walletPath("restored"), "r".toByteArray(), null)
        assertEquals(1u, restored.importBackup(backup, "backup-pass".toByteArray()))
        assertEquals(listOf(card.id), restored.list().map { it.id })
        assertTrue(restored.delete(card.id))
        assertArrayEquals(arrayOf<String>(), restored.list().map { it.id }.toTypedArray())
        restored.close()
    }

    /**
     * Not an assertion: what a QR verification costs through the SDK (Kotlin → JNA → Rust →
     * records back) against the same verification looped in Rust in this process.
     */
    @Test
    fun `benchmark sdk_verify_qr_es256_kotlin_over_native`() = runBlocking {
        val (wallet, card, _) = walletWithCard("bench", JcaKeyVault())
        val text = wallet.presentQr(card.id, listOf("name", "age_over_19")).text
        val counter = verifier()
        val rounds = 9
        val iterations = 500
        repeat(5 * iterations) { counter.verify(text) } // warm-up: the JIT compiles the bindings
        nativeVerifyLoop(counter, text, iterations.toUInt())
        val sdk = mutableListOf<Double>()
        val native = mutableListOf<Double>()
        repeat(rounds) {
            val started = System.nanoTime()
            repeat(iterations) { counter.verify(text) }
            sdk += (System.nanoTime() - started).toDouble() / iterations
            native += nativeVerifyLoop(counter, text, iterations.toUInt()).toDouble() / iterations
        }
        val sdkMedian = sdk.sorted()[rounds / 2]
        val nativeMedian = native.sorted()[rounds / 2]
        println("sdk_verify_qr_es256_kotlin: %.1f us".format(sdkMedian / 1000))
        println("native_verify_qr_es256_in_process: %.1f us".format(nativeMedian / 1000))
        println("sdk_verify_qr_es256_kotlin_over_native: %.2f x".format(sdkMedian / nativeMedian))
        assertEquals(Decision.ACCEPTED, counter.verify(text).decision)
        wallet.close()
    }

    private fun contains(haystack: ByteArray, needle: ByteArray): Boolean {
        if (needle.isEmpty() || needle.size > haystack.size) return false
        outer@ for (i in 0..haystack.size - needle.size) {
            for (j in needle.indices) if (haystack[i + j] != needle[j]) continue@outer
            return true
        }
        return false
    }
}
