package kr.dojang.sdk

import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPrivateKey
import java.security.spec.ECGenParameterSpec
import java.util.UUID
import java.util.concurrent.ConcurrentHashMap

/**
 * A key vault on `java.security`: ECDSA P-256 through the JCA, the API Android Keystore exposes
 * (an app passes `KeyGenParameterSpec` and the "AndroidKeyStore" provider instead). The
 * private keys stay in this object; the SDK sees handles, public keys and signatures.
 */
class JcaKeyVault : KeyVault {
    private val keys = ConcurrentHashMap<String, KeyPair>()
    var signatures = 0
        private set

    override fun generateKey(): VaultKey {
        val generator = KeyPairGenerator.getInstance("EC")
        generator.initialize(ECGenParameterSpec("secp256r1"))
        val pair = generator.generateKeyPair()
        val handle = "jca-" + UUID.randomUUID()
        keys[handle] = pair
        return VaultKey(handle, pair.public.encoded)
    }

    override fun sign(handle: String, message: ByteArray): ByteArray {
        val pair = keys[handle] ?: throw VaultException.KeyNotFound(handle)
        val signer = Signature.getInstance("SHA256withECDSA")
        signer.initSign(pair.private)
        signer.update(message)
        signatures++
        return signer.sign()
    }

    /** Every private key's encodings (PKCS#8 and the bare scalar), to look for them elsewhere. */
    fun privateKeyEncodings(): List<ByteArray> = keys.values.flatMap { pair ->
        val scalar = (pair.private as ECPrivateKey).s.toByteArray().let { bytes ->
            // BigInteger's two's complement: drop a sign byte, pad to 32.
            val unsigned = if (bytes.size > 32) bytes.copyOfRange(bytes.size - 32, bytes.size) else bytes
            ByteArray(32 - unsigned.size) + unsigned
        }
        listOf(pair.private.encoded, scalar)
    }
}
