*** Settings ***
Documentation       Never finishes by itself: the runner's timeout must stop it.
Library             KillFixture.py


*** Tasks ***
Wait Forever
    Hold If Asked    ${{ {"hold": True} }}    /nonexistent/gate
