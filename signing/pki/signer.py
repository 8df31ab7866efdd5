"""
A pyHanko ``Signer`` over a ``cryptography`` key object.

pyHanko's ``SimpleSigner`` wants the private key as DER (an asn1crypto
``PrivateKeyInfo``), i.e. a serialised copy of the key in an immutable bytes
object. For the worker's event key that copy is exactly what must never
exist, so this signer holds only the key object, signs through it, and
``drop()`` lets go of it after the one signature it was made for.
"""

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

# A DER ECDSA P-256 signature is at most 72 bytes; the dry run only sizes the container.
ECDSA_P256_MAX_SIGNATURE = 72


class KeySigner(Signer):
    def __init__(self, *, private_key, certificate: asn1_x509.Certificate, chain: list[asn1_x509.Certificate]):
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise TypeError("the hierarchy issues ECDSA keys only")
        super().__init__(
            signing_cert=certificate,
            cert_registry=SimpleCertificateStore.from_certs(chain),
            # The root is the validator's trust anchor; embedding it only adds bytes.
            embed_roots=False,
        )
        self._private_key = private_key

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run=False) -> bytes:
        if dry_run:
            return bytes(ECDSA_P256_MAX_SIGNATURE)
        if self._private_key is None:
            raise SigningError("the signing key has been dropped")
        return self._private_key.sign(data, ec.ECDSA(get_pyca_cryptography_hash(digest_algorithm)))

    def drop(self) -> None:
        """Forget the key: nothing in this object can sign again."""
        self._private_key = None

    @property
    def dropped(self) -> bool:
        return self._private_key is None
