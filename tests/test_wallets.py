"""Checksum checks against published test vectors (Bitcoin wiki, BIP-173, BIP-350, EIP-55)."""

import base58
import bech32
import pytest

from plugwatch.text import wallets

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def _one_char_changed(addr: str, index: int) -> str:
    alphabet = wallets.BASE58_ALPHABET
    c = addr[index]
    return addr[:index] + alphabet[(alphabet.index(c) + 1) % len(alphabet)] + addr[index + 1 :]


@pytest.mark.parametrize(
    "addr",
    [
        GENESIS,  # P2PKH, the genesis block coinbase
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # P2SH, Bitcoin wiki example
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # BIP-173 P2WPKH
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # all upper case is valid (QR codes)
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # BIP-173 P2WSH
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # BIP-350 taproot
        "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
    ],
)
def test_valid_bitcoin_addresses(addr):
    assert wallets.is_valid_btc(addr)


@pytest.mark.parametrize("index", [5, 17, 33])
def test_bitcoin_base58_with_one_char_changed_fails(index):
    assert not wallets.is_valid_btc(_one_char_changed(GENESIS, index))


@pytest.mark.parametrize(
    "addr",
    [
        # BIP-350: witness v1 encoded with the bech32 (v0) constant
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
        # BIP-350: witness v0 encoded with the bech32m constant
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # last checksum char changed
        "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet prefix is not a mainnet address
    ],
)
def test_invalid_segwit_addresses(addr):
    assert not wallets.is_valid_btc(addr)


def test_bech32m_constant_is_what_tells_v0_from_v1():
    program = bytes(range(32))
    data_v1 = [1, *bech32.convertbits(list(program), 8, 5)]
    with_bech32_const = bech32.bech32_encode("bc", data_v1)  # the package only knows bech32
    assert not wallets.is_valid_btc(with_bech32_const)
    assert wallets.segwit_decode(with_bech32_const, "bc") is None
    polymod = (
        bech32.bech32_polymod(bech32.bech32_hrp_expand("bc") + data_v1 + [0] * 6) ^ wallets.BECH32M_CONST
    )
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    with_bech32m_const = "bc1" + "".join(bech32.CHARSET[d] for d in data_v1 + checksum)
    assert wallets.segwit_decode(with_bech32m_const, "bc") == (1, program)


@pytest.mark.parametrize(
    "addr",
    [
        "LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL",
        "LVg2kJoFNg45Nbpy53h7Fe1wKyeXVRhMH9",
        "MGxNPPB7eBoWPUaprtX9v9CXJZoD2465zN",
        bech32.encode("ltc", 0, list(range(20))),
    ],
)
def test_valid_litecoin_addresses(addr):
    assert wallets.is_valid_ltc(addr)
    assert not wallets.is_valid_btc(addr)


def test_litecoin_version_bytes():
    payload = bytes(range(20))
    assert wallets.is_valid_ltc(base58.b58encode_check(b"\x30" + payload).decode())
    assert wallets.is_valid_ltc(base58.b58encode_check(b"\x32" + payload).decode())
    assert not wallets.is_valid_ltc(base58.b58encode_check(b"\x00" + payload).decode())
    assert not wallets.is_valid_ltc(_one_char_changed("LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL", 10))


def test_tron_addresses():
    assert wallets.is_valid_tron("TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC")
    assert wallets.is_valid_tron("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    assert not wallets.is_valid_tron(_one_char_changed("TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", 12))
    assert not wallets.is_valid_tron(GENESIS)  # right checksum, wrong version byte


@pytest.mark.parametrize(
    "addr",
    [  # EIP-55 test vectors
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_eip55_checksums(addr):
    assert wallets.is_valid_eth(addr)
    assert wallets.eth_checksum_address(addr.lower()) == addr
    i = max(i for i, c in enumerate(addr) if c.isalpha() and i > 1)  # the last hex letter
    flipped = addr[:i] + addr[i].swapcase() + addr[i + 1 :]
    assert not wallets.is_valid_eth(flipped)


def test_eth_without_checksum_is_format_only():
    assert wallets.is_valid_eth("0x52908400098527886E0F7030069857D2E4169EE7")
    assert wallets.is_valid_eth("0xde709f2102306220921060314715629080e2fb77")
    assert not wallets.is_valid_eth("0xde709f2102306220921060314715629080e2fb7")  # 39 hex
    assert not wallets.is_valid_eth("0xde709f2102306220921060314715629080e2fbzz")


def test_monero_format():
    addr = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
    assert len(addr) == 95 and wallets.is_valid_xmr(addr)
    assert wallets.is_valid_xmr("8" + addr[1:])  # subaddress
    assert not wallets.is_valid_xmr(addr[:-1])  # wrong length
    assert not wallets.is_valid_xmr("4z" + addr[2:])  # second char outside 0-9AB
    assert not wallets.is_valid_xmr(addr[:-1] + "0")  # 0 is not Base58
    assert wallets.is_valid_xmr(addr + "A" * 11)  # integrated address length
